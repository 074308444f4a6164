"""What state each run is in (from its ``summary.json``), as plain-text tables for ``ladabench
run --dry-run`` and ``ladabench status``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ladabench.errors import ConfigError


def _read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "summary.json"
    if not path.exists():
        return {"status": "new"}
    return json.loads(path.read_text(encoding="utf-8"))


def _target_images(run_dir: Path) -> int | None:
    path = run_dir / "config.yaml"
    if not path.exists():
        return None
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("train", {}).get("images")


def _metric(summary: dict[str, Any], which: str) -> str:
    """``fid 3.29`` style text of the first metric in ``final`` (or ``best``)."""
    values = summary.get(which) or {}
    return ", ".join(f"{k} {v['value']:.4g}" for k, v in values.items()
                     if isinstance(v, dict) and isinstance(v.get("value"), (int, float)))


def run_row(run_id: str, run_dir: Path, target: int | None = None) -> dict[str, Any]:
    """One status row: run id, status, images seen / target, final metrics, error."""
    s = _read_summary(run_dir)
    target = target if target is not None else _target_images(run_dir)
    seen = s.get("images_seen") or 0
    progress = f"{seen:,}/{target:,}" if target else f"{seen:,}"
    return {"run": run_id, "status": s.get("status", "unknown"), "images": progress,
            "metrics": _metric(s, "final") or _metric(s, "best"), "error": s.get("error") or ""}


def format_table(rows: list[dict[str, Any]]) -> str:
    """Left-aligned columns (empty columns dropped), one row per line."""
    if not rows:
        return "(no runs)"
    cols = [c for c in rows[0] if any(str(r[c]) for r in rows)]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def suite_status(suite: Any) -> str:
    """Every expanded run of a loaded suite, including those not started yet (``new``)."""
    if suite.spec.kind == "scaling":
        return "\n".join([f"suite {suite.name} ({suite.results_dir}/)", *_scaling_lines(suite)])
    rows = [run_row(r.run_id, r.run_dir, r.config.train.images) for r in suite.runs]
    return f"suite {suite.name} ({suite.results_dir}/)\n{format_table(rows)}"


def results_status(results_root: str | Path, suite_name: str | None = None) -> str:
    """The run folders found under ``results_root`` (one suite, or every suite)."""
    root = Path(results_root)
    if suite_name is not None and not (root / suite_name).is_dir():
        raise ConfigError(f"{root / suite_name}: no such suite folder (give the suite's YAML file "
                          f"to see runs that have not started)")
    suites = [root / suite_name] if suite_name else sorted(p for p in root.glob("*") if p.is_dir())
    blocks = []
    for folder in suites:
        rows = [run_row(d.name, d) for d in sorted(folder.iterdir())
                if d.is_dir() and (d / "summary.json").exists()]
        table = format_table(rows)
        if not rows and (folder / "scaling.json").exists():
            table = "scaling sweep: finished (scaling.json, scaling.csv)"
        blocks.append(f"suite {folder.name} ({folder}/)\n{table}")
    return "\n\n".join(blocks) or f"no results under {root}/"


def show_status(target: str | None, results_root: str | Path | None = None) -> str:
    """``target`` is a suite YAML file (all its runs), a suite name under the results root, or
    None (every suite there)."""
    if target is not None and target.endswith((".yaml", ".yml")):
        from ladabench.suite import load_suite

        return suite_status(load_suite(target, results_root=results_root))
    return results_status(results_root or "results", target)


def _scaling_lines(suite: Any) -> list[str]:
    from ladabench.scaling_job import OUTPUT, scaling_status

    options = ", ".join(f"{k}={v}" for k, v in suite.scaling.items()) or "run_scaling defaults"
    return [f"1 job: attention scaling sweep ({options})",
            f"{scaling_status(suite.results_dir)}: {suite.results_dir / OUTPUT}"]


def schedule_text(train: Any) -> str:
    """``8,192``, or with a time budget ``1,000,000 or 150 s cpu`` (whichever comes first)."""
    text = f"{train.images:,}"
    if train.time_budget_s is not None:
        text += f" or {train.time_budget_s:g} s {train.time_budget_clock}"
    return text


def describe(suite: Any, planned: list[Any], executor: str, profile: Any = None) -> str:
    """The dry-run text: every selected run with its action, status and schedule, and the
    resources (for SLURM: the exact submitit parameters, from the loaded ``profile``)."""
    from ladabench.profiles import slurm_parameters

    res = suite.spec.resources
    what = ("kind scaling" if suite.spec.kind == "scaling"
            else f"{len(planned)} of {len(suite.runs)} runs, base {suite.spec.base}")
    lines = [f"suite {suite.name} ({suite.path}): {what}, results {suite.results_dir}/",
             f"executor {executor}; per run: gpus {res.gpus}, cpus {res.cpus}, "
             f"mem {res.mem_gb:g} GB, time {res.time_min} min"]
    if executor == "slurm":
        params = slurm_parameters(profile, res.gpus, res.cpus, res.mem_gb, res.time_min,
                                  f"ladabench-{suite.name}")
        lines.append("submitit: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    if suite.spec.kind == "scaling":
        lines += _scaling_lines(suite)
    else:
        lines.append(format_table([
            {"action": p.action, "status": p.status, "run": p.run.run_id,
             "images": schedule_text(p.run.config.train), "batch": p.run.config.train.batch_size}
            for p in planned]))
    lines += [f"required before launch: {key}" for key in suite.required_missing]
    lines.append("dry run: nothing launched, nothing written")
    return "\n".join(lines)


def _last_train_line(run_dir: Path) -> dict[str, Any]:
    """The latest ``train`` record of a run's metrics.jsonl (empty when none yet)."""
    from ladabench.io import read_jsonl

    path = run_dir / "metrics.jsonl"
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
    """Progress of a launched suite as plain lines (no carriage returns: fit for log files).

    One line whenever a run starts or ends, with its state, and for the suite the runs done out
    of the total and an ETA; unless ``quiet``, every ``every_s`` seconds one line with each
    running run's progress. The ETA extrapolates the running runs from their progress and the
    queued ones from the mean duration of the others, shared among ``parallel`` slots.
    """

    def __init__(self, runs: list[Any], parallel: int, log: Any, quiet: bool = False,
                 every_s: float = 60.0, clock: Any = None) -> None:
        import time

        self.runs = {r.run_id: r for r in runs}
        self.parallel, self.log, self.quiet, self.every_s = max(parallel, 1), log, quiet, every_s
        self.clock = clock or time.monotonic
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
        self.durations[run_id] = self.clock() - self.started.get(run_id, self.clock())
        summary = _read_summary(self.runs[run_id].run_dir)
        detail = f"{summary.get('images_seen') or 0:,} images, {format_duration(self.durations[run_id])}"
        metrics = _metric(summary, "final")
        self.log(f"{self._head()} {outcome:<9} {run_id} ({detail}{', ' + metrics if metrics else ''})")

    def beat(self) -> None:
        """The periodic line (not in quiet mode)."""
        if self.quiet or self.clock() - self.last_beat < self.every_s:
            return
        self.last_beat = self.clock()
        running = [k for k in self.started if k not in self.durations]
        if running:
            parts = [f"{k} {100 * self._fraction(k):.0f} %" for k in running]
            self.log(f"{self._head()} running: {', '.join(parts)}")
