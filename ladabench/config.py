"""The resolved run config (architecture.md contract 1): one nested, typed, frozen object.

``config_hash`` hashes the canonical JSON of the config without machine-specific fields
(data root, device, inception weights path), so the same experiment has the same hash anywhere.
"""
from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from ladabench.data.config import DataConfig
from ladabench.errors import ConfigError
from ladabench.metrics.config import EvalConfig
from ladabench.models.config import ModelConfig
from ladabench.schema import MACHINE_KEYS, StrictModel, load_yaml, parse_model
from ladabench.train.config import TrainConfig



class RunConfig(StrictModel):
    name: str = "run"
    suite: str | None = None
    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def config_hash(self) -> str:
        """sha256 (first 12 hex digits) of the canonical experiment definition."""
        d = self.to_dict()
        d.pop("name", None)
        d.pop("suite", None)
        for section, key in MACHINE_KEYS:
            d[section].pop(key, None)
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def parse_value(text: str) -> Any:
    """A ``--set key=value`` value, read as YAML (so 1e-4, true, [a, b] have their types)."""
    return yaml.safe_load(text)


def apply_overrides(data: dict, overrides: list[str], source: str = "--set") -> dict:
    """Apply ``key.path=value`` strings to a nested dict (returns a new dict)."""
    out = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"{source}: expected key.path=value, got {item!r}")
        path, value = item.split("=", 1)
        node = out
        keys = path.strip().split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{source}: {path}: {k!r} is not a section")
        node[keys[-1]] = parse_value(value)
    return out


def load_run_config(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    """Load, override and validate a run config file."""
    data = apply_overrides(load_yaml(path), list(overrides))
    return parse_model(RunConfig, data, str(path))
