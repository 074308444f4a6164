"""Progress of a launched suite: one line whenever a run starts or ends, with the suite's runs
done out of the total and an ETA; unless ``quiet``, every tick (StyleGAN-like) a line with the
suite's kimg and one per running run: kimg of its schedule, img/s, sec/kimg, its ETA and its
last evaluation. Plain lines (no escape codes: fit for log files and SLURM logs), except on a
terminal, where the tick lines are one block redrawn in place (:class:`Terminal`)."""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from ladabench.core.io import read_jsonl
from ladabench.core.rundir import RunDir, read_summary
from ladabench.launch.status import metric_text
from ladabench.suite import Run


def _latest(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The latest ``train`` and ``eval`` records of a run's metrics.jsonl (empty when none)."""
    path = RunDir(run_dir).metrics
    train: dict[str, Any] = {}
    evaluation: dict[str, Any] = {}
    for record in read_jsonl(path) if path.exists() else []:
        if record.get("kind") == "train":
            train = record
        elif record.get("kind") == "eval":
            evaluation = record
    return train, evaluation


def _fraction(line: dict[str, Any], images: int, budget_s: float | None, clock: str) -> float:
    done = (line.get("images_seen") or 0) / images
    key = "train_cpu_seconds" if clock == "cpu" else "train_seconds"
    if budget_s and line.get(key) is not None:
        done = max(done, line[key] / budget_s)
    return min(done, 1.0)


def run_fraction(run_dir: Path, images: int, budget_s: float | None, clock: str = "wall") -> float:
    """How far a running run is, 0-1: images seen of the schedule, or of its time budget spent
    when that is further along (``train.time_budget_s``, on its clock)."""
    return _fraction(_latest(run_dir)[0], images, budget_s, clock)


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60:02d} min"


def remaining_s(line: dict[str, Any], images: int, budget_s: float | None,
                clock: str = "wall") -> float | None:
    """Seconds of training left after the ``train`` record ``line``: the images left at its
    img/s, or the time budget left when that ends first (None before the first record)."""
    rate = line.get("img_per_s")
    if not rate:
        return None
    left = max(images - (line.get("images_seen") or 0), 0) / rate
    spent = line.get("train_cpu_seconds" if clock == "cpu" else "train_seconds")
    if budget_s and spent is not None:
        left = min(left, max(budget_s - spent, 0.0))
    return left


def run_line(run_id: str, run_dir: Path, images: int, budget_s: float | None = None,
             clock: str = "wall") -> str:
    """One running run: ``kimg 12.8/68096.0 (0 %), 45.2 img/s, 22.1 sec/kimg, ETA …, fid …``."""
    line, evaluation = _latest(run_dir)
    seen = line.get("images_seen") or 0
    parts = [f"kimg {seen / 1000:.1f}/{images / 1000:.1f} "
             f"({100 * _fraction(line, images, budget_s, clock):.0f} %)"]
    if line.get("img_per_s"):
        parts.append(f"{line['img_per_s']:.1f} img/s, {1000 / line['img_per_s']:.1f} sec/kimg")
    left = remaining_s(line, images, budget_s, clock)
    parts.append("ETA —" if left is None else f"ETA {format_duration(left)}")
    metrics = metric_text({"results": evaluation.get("results")}, "results")
    if metrics:
        parts.append(f"{metrics} at {evaluation['images_seen'] / 1000:.1f} kimg")
    return f"{run_id}: {', '.join(parts)}"


class Terminal:
    """A terminal: log lines scroll above a block of progress lines redrawn in place (each cut
    to the terminal's width, so that the block's height is known)."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream, self.height = stream, 0

    def _clear(self) -> None:
        if self.height:
            self.stream.write(f"\x1b[{self.height}F\x1b[J")  # up to the block's start, erase below
            self.height = 0

    def log(self, line: str) -> None:
        self._clear()
        self.stream.write(line + "\n")
        self.stream.flush()

    def live(self, lines: list[str]) -> None:
        self._clear()
        width = shutil.get_terminal_size().columns - 1
        self.stream.write("".join(line[:width] + "\n" for line in lines))
        self.height = len(lines)
        self.stream.flush()


class SuiteProgress:
    """The progress lines of one launch. The ETA extrapolates the running runs from their
    progress and the queued ones from the mean duration of the others, shared among
    ``parallel`` slots."""

    def __init__(self, runs: list[Run], parallel: int, log: Callable[[str], None],
                 quiet: bool = False, every_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic,
                 live: Callable[[list[str]], None] | None = None) -> None:
        """``live``: where the tick's lines go as one block (a :class:`Terminal`); default: ``log``."""
        self.runs = {r.run_id: r for r in runs}
        self.parallel, self.log, self.quiet, self.every_s = max(parallel, 1), log, quiet, every_s
        self.clock, self.live = clock, live
        self.started: dict[str, float] = {}
        self.durations: dict[str, float] = {}
        self.last_beat = self.clock()
        self.ticks = 0

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

    def _kimg(self) -> str:
        """The suite's images seen (ended runs: their summary) of all runs' schedules, in kimg."""
        seen = 0
        for run_id, run in self.runs.items():
            if run_id in self.durations:
                seen += (read_summary(RunDir(run.run_dir)) or {}).get("images_seen") or 0
            elif run_id in self.started:
                seen += _latest(run.run_dir)[0].get("images_seen") or 0
        total = sum(r.config.train.images for r in self.runs.values())
        return f"kimg {seen / 1000:.1f}/{total / 1000:.1f}"

    def beat(self) -> None:
        """The tick's lines (not in quiet mode): the suite, then each running run."""
        if self.quiet or self.clock() - self.last_beat < self.every_s:
            return
        seconds, self.last_beat = self.clock() - self.last_beat, self.clock()
        running = [k for k in self.started if k not in self.durations]
        if not running:
            return
        self.ticks += 1
        lines = [f"{self._head()} tick {self.ticks}, {seconds:.0f} sec/tick, suite {self._kimg()}"]
        for run_id in running:
            t = self.runs[run_id].config.train
            lines.append("  " + run_line(run_id, self.runs[run_id].run_dir, t.images,
                                         t.time_budget_s, t.time_budget_clock))
        if self.live is not None:
            self.live(lines)
        else:
            for line in lines:
                self.log(line)
