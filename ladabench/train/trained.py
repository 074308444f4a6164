"""The EMA generator of a run, loaded from its checkpoint for sampling and evaluation (no
optimiser, data set or training loop is built).

A run directory stands for the checkpoint its protocol selects: ``checkpoints/best.pt`` (the EMA
generator at its best in-training FID) when it exists, else ``checkpoints/last.pt``. Both hold
the resolved config, so a checkpoint file alone is enough.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.core.errors import DataError
from ladabench.core.rundir import RunDir
from ladabench.train.checkpoint import load_checkpoint, load_module_state


@dataclass(frozen=True)
class TrainedGenerator:
    """An eval-mode, frozen EMA generator with what produced it."""

    generator: nn.Module
    cfg: RunConfig
    checkpoint: Path
    images_seen: int
    #: the run directory, when the generator was found through one
    run_dir: Path | None


def selected_checkpoint(rd: RunDir) -> Path:
    """``best.pt`` when the run kept one, else ``last.pt`` (DataError when neither exists)."""
    for path in (rd.best, rd.last):
        if path.is_file():
            return path
    raise DataError(f"{rd.path}: no checkpoints/best.pt or checkpoints/last.pt in this run "
                    "directory")


def run_dir_of(checkpoint: Path) -> Path | None:
    """The run directory holding ``<run>/checkpoints/<file>.pt``, None for a loose file."""
    parent = checkpoint.resolve().parent
    if parent.name == "checkpoints" and RunDir(parent.parent).config.is_file():
        return parent.parent
    return None


def load_trained(path: str | Path, device: torch.device | str = "cpu") -> TrainedGenerator:
    """The EMA generator of a run directory (its selected checkpoint) or of a checkpoint file.

    Raises:
        DataError: no checkpoint, an unreadable one, one without an EMA generator or config, or
            one whose generator does not fit its config (the first mismatch).
    """
    from ladabench.models import build_generator

    path = Path(path)
    checkpoint = selected_checkpoint(RunDir(path)) if path.is_dir() else path
    ck = load_checkpoint(checkpoint, "cpu")
    missing = [k for k in ("G_ema", "config", "images_seen") if k not in ck]
    if missing:
        raise DataError(f"{checkpoint}: not a ladabench checkpoint (missing {', '.join(missing)})")
    cfg = RunConfig.model_validate(ck["config"])
    generator = build_generator(cfg.model, cfg.train.noise_dim)
    load_module_state(generator, ck, "G_ema", checkpoint)
    generator.eval().requires_grad_(False)
    return TrainedGenerator(generator.to(device), cfg, checkpoint, int(ck["images_seen"]),
                            path if path.is_dir() else run_dir_of(checkpoint))
