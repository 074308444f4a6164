"""The training engine: ``run(cfg, run_dir)`` trains one config into one run directory
(docs/paper.md §8; docs/architecture.md contracts 1-3)."""
from ladabench.train.engine import run

__all__ = ["run"]
