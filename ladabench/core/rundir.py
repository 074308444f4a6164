"""The run directory (docs/architecture.md, contracts 1-3): its layout, the run statuses and
every read and write of ``summary.json`` and ``provenance.json``.

```
<run_dir>/config.yaml  metrics.jsonl  summary.json  provenance.json
          checkpoints/{last,best}.pt  samples/{grid,attn}_<images_seen:012d>.{png,npz}
```

Torch-free: the trainer, the launcher, ``status``, the result readers and the gate all use it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladabench.core.errors import ConfigError
from ladabench.core.io import write_json

STATUSES = ("pending", "running", "interrupted", "finished", "diverged", "failed")
#: statuses after which a run is complete: never trained again without ``--force``
FINISHED = ("finished", "diverged")
#: the files that make a folder a run directory
RUN_FILES = ("config.yaml", "summary.json", "metrics.jsonl", "provenance.json")
#: ``status`` of a run directory without a summary yet
NEW = "new"
#: suite and run names become folder names: one path component of a safe alphabet, no leading
#: dot or dash (so never ``..``, a hidden folder or an option)
SAFE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.+=-]{0,127}$"
#: folders a results tree or a run directory may never be (nor be the parent of in the case of
#: the filesystem root): writing runs there would litter the system
SYSTEM_FOLDERS = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root",
                  "/run", "/sbin", "/sys", "/usr", "/var")


def check_output_folder(path: str | Path, key: str) -> Path:
    """``path`` if a results tree may be written there; a system folder (or the filesystem root)
    is a ConfigError naming ``key``."""
    resolved = Path(path).expanduser().resolve()
    if str(resolved) in SYSTEM_FOLDERS or resolved == Path.home():
        raise ConfigError(f"{path!s} resolves to the system folder {resolved}; choose a folder "
                          "of your own for results", key=key)
    return Path(path)


def _file(relative: str) -> property:
    return property(lambda self: self.path / relative, doc=f"``<run_dir>/{relative}``")


@dataclass(frozen=True)
class RunDir:
    """The paths of one run directory."""

    path: Path
    config = _file("config.yaml")
    metrics = _file("metrics.jsonl")
    summary = _file("summary.json")
    provenance = _file("provenance.json")
    last = _file("checkpoints/last.pt")
    best = _file("checkpoints/best.pt")
    samples = _file("samples")


def new_summary(run_id: str, suite: str | None, config_hash: str) -> dict[str, Any]:
    """A summary with every contract key, status ``pending``."""
    return {
        "status": "pending", "run_id": run_id, "suite": suite,
        "config_hash": config_hash, "step": 0, "images_seen": 0, "wall_time_s": 0.0,
        "params": None, "macs": None, "cost_convention": None, "train_macs_total": 0, "img_per_s": None,
        "peak_memory_bytes": None, "final": {}, "best": {}, "spikes": 0, "diverged_at": None,
        "error": None, "provenance_sha256": None,
    }


def read_summary(rd: RunDir) -> dict[str, Any] | None:
    """The parsed ``summary.json``, None when there is none yet."""
    if not rd.summary.exists():
        return None
    return json.loads(rd.summary.read_text(encoding="utf-8"))


def run_status(rd: RunDir) -> str:
    """``new`` (no summary yet) or the ``status`` written in ``summary.json``."""
    summary = read_summary(rd)
    return NEW if summary is None else str(summary.get("status", "unknown"))


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
