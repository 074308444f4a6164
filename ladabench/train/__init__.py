"""The training engine: ``run(cfg, run_dir)`` trains one config into one run directory
(ladagan.md §7 semantics; architecture.md contracts 1-3).

``ladabench.config`` imports ``ladabench.train.config`` (this package), so the engine, which
needs ``RunConfig``, is imported on first use.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ladabench.train.config import TrainConfig

if TYPE_CHECKING:
    from ladabench.config import RunConfig


def run(cfg: "RunConfig", run_dir: str | Path, *, quiet: bool = False,
        should_stop: Callable[[], bool] | None = None) -> dict:
    """Train ``cfg`` in ``run_dir`` and return the summary (see ``ladabench.train.engine.run``)."""
    from ladabench.train.engine import run as _run

    return _run(cfg, run_dir, quiet=quiet, should_stop=should_stop)


__all__ = ["TrainConfig", "run"]
