"""Progress of a launched suite as plain lines (no carriage returns: fit for log files): one
line whenever a run starts or ends, with the suite's runs done out of the total and an ETA;
unless ``quiet``, a periodic line with each running run's progress."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from ladabench.core.io import read_jsonl
from ladabench.core.rundir import RunDir, read_summary
from ladabench.launch.status import metric_text
from ladabench.suite import Run


def _last_train_line(run_dir: Path) -> dict[str, Any]:
    """The latest ``train`` record of a run's metrics.jsonl (empty when none yet)."""
    path = RunDir(run_dir).metrics
    if not path.exists():
        return {}
    return next((r for r in reversed(read_jsonl(path)) if r.get("kind") == "train"), {})


def run_fraction(run_dir: Path, images: int, budget_s: float | None, clock: str = "wall") -> float:
    """How far a running run is, 0-1: images seen of the schedule, or of its time budget spent
    when that is further along (``train.time_budget_s``, on its clock)."""
    line = _last_train_line(run_dir)
    done = (line.get("images_seen") or 0) / images
    key = "train_cpu_seconds" if clock == "cpu" else "train_seconds"
    if budget_s and line.get(key) is not None:
        done = max(done, line[key] / budget_s)
    return min(done, 1.0)


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"


class SuiteProgress:
    """The progress lines of one launch. The ETA extrapolates the running runs from their
    progress and the queued ones from the mean duration of the others, shared among
    ``parallel`` slots."""

    def __init__(self, runs: list[Run], parallel: int, log: Callable[[str], None],
                 quiet: bool = False, every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.runs = {r.run_id: r for r in runs}
        self.parallel, self.log, self.quiet, self.every_s = max(parallel, 1), log, quiet, every_s
        self.clock = clock
        self.started: dict[str, float] = {}
        self.durations: dict[str, float] = {}
        self.last_beat = self.clock()

    def _fraction(self, run_id: str) -> float:
        t = self.runs[run_id].config.train
        return run_fraction(self.runs[run_id].run_dir, t.images, t.time_budget_s, t.time_budget_clock)

    def eta(self) -> float | None:
        """Seconds until every run has ended, or None before anything can be extrapolated."""
        now = self.clock()
        running = {k: now - t0 for k, t0 in self.started.items() if k not in self.durations}
        totals = list(self.durations.values())
        remaining = []
        for run_id, elapsed in running.items():
            f = self._fraction(run_id)
            if f > 0.05:
                totals.append(elapsed / f)
                remaining.append(elapsed / f - elapsed)
        if not totals:
            return None
        mean = sum(totals) / len(totals)
        remaining += [max(mean - e, 0.0) for k, e in running.items() if self._fraction(k) <= 0.05]
        queued = len(self.runs) - len(self.started)
        return (sum(remaining) + queued * mean) / self.parallel

    def _head(self) -> str:
        running = len(self.started) - len(self.durations)
        eta = self.eta()
        eta_text = "ETA —" if eta is None else f"ETA {format_duration(eta)}"
        return f"[{len(self.durations)}/{len(self.runs)} done, {running} running · {eta_text}]"

    def start(self, run_id: str, announce: bool = True) -> None:
        self.started[run_id] = self.clock()
        if announce:
            self.log(f"{self._head()} started   {run_id}")

    def end(self, run_id: str, outcome: str) -> None:
        """``outcome``: a status, or ``failed: <error>`` (the error ends the line)."""
        self.durations[run_id] = self.clock() - self.started.get(run_id, self.clock())
        summary = read_summary(RunDir(self.runs[run_id].run_dir)) or {}
        detail = f"{summary.get('images_seen') or 0:,} images, {format_duration(self.durations[run_id])}"
        metrics = metric_text(summary, "final")
        status, _, error = outcome.partition(": ")
        self.log(f"{self._head()} {status:<9} {run_id} ({detail}{', ' + metrics if metrics else ''})"
                 f"{': ' + error if error else ''}")

    def beat(self) -> None:
        """The periodic line (not in quiet mode)."""
        if self.quiet or self.clock() - self.last_beat < self.every_s:
            return
        self.last_beat = self.clock()
        running = [k for k in self.started if k not in self.durations]
        if running:
            parts = [f"{k} {100 * self._fraction(k):.0f} %" for k in running]
            self.log(f"{self._head()} running: {', '.join(parts)}")
