"""What launching a suite would do to each of its runs: start, resume, restart, skip (finished)
or leave alone (``busy``: another live process trains it)."""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from ladabench.core.rundir import FINISHED, NEW, RunDir, lock_owner, run_status
from ladabench.suite import Run, Suite


@dataclass(frozen=True)
class Planned:
    run: Run
    status: str
    action: str  # start | resume | restart | skip | busy
    owner: dict[str, Any] | None = None  # who holds the run's lock (busy)


def plan(suite: Suite, only: str | None = None, force: bool = False) -> list[Planned]:
    """What launching would do to each selected run. ``only`` is a glob on the run id (plain
    text matches anywhere in it)."""
    pattern = only if only is None or any(c in only for c in "*?[") else f"*{only}*"
    out = []
    for run in suite.runs:
        if pattern is not None and not fnmatch.fnmatchcase(run.run_id, pattern):
            continue
        rd = RunDir(run.run_dir)
        status, owner = run_status(rd), lock_owner(rd)
        # the lock, not the summary: a trainer holds it before it writes ``running`` and after
        # it writes ``finished`` (while it shrinks ``last.pt``)
        if owner is not None:
            action = "busy"
        elif force and status != NEW:
            action = "restart"
        elif status in FINISHED:
            action = "skip"
        else:
            action = "start" if status == NEW else "resume"
        out.append(Planned(run, status, action, owner))
    return out
