"""The resolved run config (architecture.md contract 1): one nested, typed, frozen object.

``config_hash`` hashes the canonical JSON of the config without machine-specific fields
(data root, data cache and loader workers, device, inception weights path, experiment
trackers), so the same experiment has the same hash anywhere, and without the keys added
later (``LATER_KEYS``) while they hold their defaults.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field

from ladabench.config.data import DataConfig
from ladabench.config.eval import EvalConfig
from ladabench.config.model import ModelConfig
from ladabench.config.train import TrainConfig
from ladabench.core.errors import ConfigError, first_line
from ladabench.core.io import write_yaml
from ladabench.core.rundir import SAFE_NAME, RunDir
from ladabench.core.schema import YAMLLimitError, StrictModel, load_yaml, parse_model, parse_yaml

#: run-config key paths that differ between machines but not between experiments (left out of
#: the config hash): where the data is, how it is read, the device, the weights file
MACHINE_KEYS = (("data", "root"), ("data", "cache"), ("data", "workers"), ("train", "device"),
                ("eval", "inception_weights"), ("train", "log_to"), ("train", "wandb_project"),
                ("train", "wandb_mode"))
#: keys added after runs were recorded, left out of the hash while at these defaults: every
#: config from before keeps its hash (and its run folder), a config that sets one gets another
LATER_KEYS = {("train", "sync_batchnorm"): True, ("train", "rank_streams"): "own"}


class RunConfig(StrictModel):
    name: Annotated[str, Field(pattern=SAFE_NAME)] = "run"
    """the readable part of the run id and of the run folder's name: one path component"""
    suite: Annotated[str, Field(pattern=SAFE_NAME)] | None = None
    """the suite the run belongs to (set by ``ladabench run``; None for ``ladabench train``)"""
    model: ModelConfig = ModelConfig()
    """the architecture: a preset and the attention variants in it"""
    data: DataConfig = DataConfig()
    """the training data set"""
    train: TrainConfig = TrainConfig()
    """the schedule, the optimisers, the regularisers and logging"""
    eval: EvalConfig = EvalConfig()
    """the metric protocol: metrics, extractor, sample counts"""

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """sha256 (first 12 hex digits) of the canonical experiment definition."""
        d = self.to_dict()
        d.pop("name", None)
        d.pop("suite", None)
        for section, key in MACHINE_KEYS:
            d[section].pop(key, None)
        for (section, key), default in LATER_KEYS.items():
            if d[section].get(key) == default:
                d[section].pop(key)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def run_id(self) -> str:
        """``<name>-<config_hash>``: the run directory's name (contract 1)."""
        return f"{self.name}-{self.config_hash()}"


def parse_value(text: str) -> Any:
    """A ``--set key=value`` value, read as YAML (so 1e-4, true, [a, b] have their types)."""
    return parse_yaml(text)


def apply_overrides(data: dict, overrides: list[str], source: str = "--set") -> dict:
    """Apply ``key.path=value`` strings to a nested dict (returns a new dict)."""
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"expected key.path=value, got {item!r}", source=source)
        path, value = item.split("=", 1)
        node = out
        keys = path.strip().split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{k!r} is not a section", key=path, source=source)
        try:
            node[keys[-1]] = parse_value(value)
        except (yaml.YAMLError, YAMLLimitError) as e:
            raise ConfigError(f"not a YAML value ({first_line(e)})",
                              key=path.strip(), source=source) from None
    return out


def load_run_config(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Load, override and validate a run config file."""
    data = apply_overrides(load_yaml(path), list(overrides))
    return parse_model(RunConfig, data, str(path))


def prepare_run_dir(cfg: RunConfig, path: str | Path) -> RunDir:
    """Create the directory and write ``config.yaml``, or check that an existing one holds the
    same experiment (same config hash): resuming a different config into it is an error."""
    rd = RunDir(Path(path))
    if rd.config.exists():
        old = load_run_config(rd.config)
        if old.config_hash() != cfg.config_hash():
            raise ConfigError(
                f"{rd.config}: this run directory holds config hash {old.config_hash()}, "
                f"the requested config has hash {cfg.config_hash()}; train into another folder "
                "(`ladabench train --out DIR`) or rerun with the config stored there"
            )
        return rd
    rd.path.mkdir(parents=True, exist_ok=True)
    write_yaml(rd.config, cfg.to_dict())
    return rd
