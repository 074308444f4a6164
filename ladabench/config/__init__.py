"""The resolved run config (docs/architecture.md, contract 1) and its sections, plus SLURM
cluster profiles. Torch-free: pydantic models only, so every layer can read configs."""
from ladabench.config.data import DataConfig
from ladabench.config.eval import EvalConfig
from ladabench.config.model import ModelConfig
from ladabench.config.run import (
    MACHINE_KEYS,
    RunConfig,
    apply_overrides,
    load_run_config,
    parse_value,
    prepare_run_dir,
)
from ladabench.config.train import TrainConfig

__all__ = [
    "MACHINE_KEYS",
    "DataConfig",
    "EvalConfig",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
    "apply_overrides",
    "load_run_config",
    "parse_value",
    "prepare_run_dir",
]
