"""The Python API: what the ``ladabench`` commands do, as functions (``import ladabench``
re-exports them). Each imports its layer on first use, so ``import ladabench`` stays light."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ladabench.config import RunConfig
    from ladabench.results.gate import Row


def train_config(config: "RunConfig | str | Path", run_dir: str | Path | None = None, *,
                 sets: list[str] | tuple[str, ...] = (), quiet: bool = False) -> dict[str, Any]:
    """``ladabench train``: train one run config (a RunConfig or a YAML file with optional
    ``plugins:``, with ``key=value`` ``sets``) into ``run_dir`` (default ``results/<run id>``), resuming from its last
    checkpoint; returns the run's summary (docs/architecture.md, contract 3)."""
    from ladabench.config import RunConfig, apply_overrides
    from ladabench.suite.runfile import load_train_config
    from ladabench.train import run

    if isinstance(config, RunConfig):
        cfg = RunConfig.model_validate(apply_overrides(config.to_dict(), list(sets)))
    else:  # read as ``train`` reads it: its ``plugins:`` imported first, then checked
        cfg, _ = load_train_config(config, sets)
    return run(cfg, run_dir or Path("results") / cfg.run_id(), quiet=quiet)


def check(results: str | Path, baseline: str | Path) -> tuple[list["Row"], int]:
    """``ladabench check``: compare the runs under ``results`` with a regression baseline, with
    the throughput reference timed now; returns the rows and the exit code (0 / 1 / 2)."""
    from ladabench.measure.reference import reference_now
    from ladabench.results.gate import check_results

    return check_results(results, baseline, reference_now)
