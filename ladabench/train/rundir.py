"""The run directory (architecture.md contracts 1-3): layout, config check, summary, provenance.

```
<run_dir>/config.yaml  metrics.jsonl  summary.json  provenance.json
          checkpoints/{last,best}.pt  samples/{grid,attn}_<images_seen:012d>.{png,npz}
```
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladabench.config import RunConfig, load_run_config
from ladabench.errors import ConfigError
from ladabench.io import write_json, write_yaml

STATUSES = ("pending", "running", "interrupted", "finished", "diverged", "failed")


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def metrics(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def provenance(self) -> Path:
        return self.path / "provenance.json"

    @property
    def last(self) -> Path:
        return self.path / "checkpoints" / "last.pt"

    @property
    def best(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    @property
    def samples(self) -> Path:
        return self.path / "samples"


def run_id(cfg: RunConfig) -> str:
    """``<name>-<config_hash>`` (architecture.md contract 1)."""
    return f"{cfg.name}-{cfg.config_hash()}"


def prepare_run_dir(cfg: RunConfig, path: str | Path) -> RunDir:
    """Create the directory and write ``config.yaml``, or check that an existing one holds the
    same experiment (same config hash): resuming a different config into it is an error."""
    rd = RunDir(Path(path))
    if rd.config.exists():
        old = load_run_config(rd.config)
        if old.config_hash() != cfg.config_hash():
            raise ConfigError(
                f"{rd.config}: this run directory holds config hash {old.config_hash()}, "
                f"the requested config has hash {cfg.config_hash()}; choose another --out "
                "or rerun with the config stored there"
            )
        return rd
    rd.path.mkdir(parents=True, exist_ok=True)
    write_yaml(rd.config, cfg.to_dict())
    return rd


def new_summary(cfg: RunConfig) -> dict[str, Any]:
    """A summary with every contract key, status ``pending``."""
    return {
        "status": "pending", "run_id": run_id(cfg), "suite": cfg.suite,
        "config_hash": cfg.config_hash(), "step": 0, "images_seen": 0, "wall_time_s": 0.0,
        "train_seconds": 0.0, "train_cpu_seconds": 0.0, "stopped_by": None,
        "params": None, "macs": None, "cost_convention": None, "train_macs_total": 0, "img_per_s": None,
        "peak_memory_bytes": None, "final": {}, "best": {}, "spikes": 0, "diverged_at": None,
        "error": None, "provenance_sha256": None,
    }


def read_summary(rd: RunDir) -> dict[str, Any] | None:
    if not rd.summary.exists():
        return None
    return json.loads(rd.summary.read_text(encoding="utf-8"))


def write_summary(rd: RunDir, summary: dict[str, Any]) -> None:
    if summary["status"] not in STATUSES:
        raise ValueError(f"unknown run status {summary['status']!r}")
    write_json(rd.summary, summary)


def write_provenance(rd: RunDir, record: dict[str, Any]) -> str:
    """Write this session's provenance (earlier sessions kept under ``previous``); return the
    sha256 of the file written."""
    if rd.provenance.exists():
        old = json.loads(rd.provenance.read_text(encoding="utf-8"))
        record = {**record, "previous": old.pop("previous", []) + [old]}
    write_json(rd.provenance, record)
    return hashlib.sha256(rd.provenance.read_bytes()).hexdigest()
