"""A ``kind: scaling`` suite as one submitit job: ``ladabench.metrics.scaling.run_scaling`` with
the suite's options, writing ``scaling.csv`` and ``scaling.json`` into ``results/<suite>/``.

The sweep keeps no state worth resuming (minutes, not hours), so a preempted or timed-out job is
requeued from the start (``Checkpointable``'s default resubmits the same call)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import submitit

from ladabench.plugins import load_plugin

OUTPUT = "scaling.json"


class ScalingJob(submitit.helpers.Checkpointable):
    def __init__(self, out_dir: str, options: dict[str, Any], plugins: tuple[str, ...] = ()) -> None:
        self.out_dir, self.options, self.plugins = str(out_dir), dict(options), tuple(plugins)

    def __call__(self) -> dict[str, str]:
        from ladabench.metrics.scaling import run_scaling

        for ref in self.plugins:
            load_plugin(ref)
        run_scaling(self.out_dir, **self.options)
        return {"status": "finished"}


def scaling_status(out_dir: Path) -> str:
    return "finished" if (out_dir / OUTPUT).exists() else "new"


def launch_scaling(suite: Any, executor: Any, force: bool, wait: bool,
                   log: Callable[[str], None]) -> dict[str, str]:
    """Submit the sweep unless ``scaling.json`` exists (``force``: run it again)."""
    if scaling_status(suite.results_dir) == "finished" and not force:
        log(f"finished  {suite.name} scaling sweep (skipped)")
        return {}
    job = executor.submit(ScalingJob(str(suite.results_dir), suite.scaling, suite.plugins))
    log(f"submitted {suite.name} scaling sweep as job {job.job_id}")
    if not wait:
        return {"scaling": "pending"}
    from ladabench.launch import job_outcome

    status = job_outcome(job)
    log(f"{status:<9} {suite.name} scaling sweep -> {suite.results_dir / OUTPUT}")
    return {"scaling": status}
