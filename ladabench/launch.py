"""Launch a validated suite through submitit: ``local`` (subprocesses, at most ``max_parallel``
at once), ``debug`` (in-process, sequential, real tracebacks) or ``slurm`` (one job array, one
task per run).

Each run is a :class:`RunJob`, a submitit ``Checkpointable``: on SIGUSR2 (time limit or
preemption) it asks the trainer to stop at the next step boundary (``should_stop``), the trainer
saves ``checkpoints/last.pt`` and returns ``interrupted``, and submitit's own handler then calls
:meth:`RunJob.checkpoint` and requeues the task, which resumes from that checkpoint. Finished
runs are skipped, unfinished ones resume, ``force`` deletes a run's folder and starts it again.
"""
from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import submitit

from ladabench.config import RunConfig
from ladabench.errors import ConfigError
from ladabench.io import append_jsonl
from ladabench.plugins import load_plugin
from ladabench.profiles import SlurmProfile, load_profile, slurm_parameters
from ladabench.status import SuiteProgress
from ladabench.suite import Run, Suite

EXECUTORS = ("local", "debug", "slurm")
#: summary statuses after which a run is not launched again (without ``force``)
DONE = ("finished", "diverged")


class _StopFlag:
    """SIGUSR2 handler that only records the signal; the trainer polls ``is_set``."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        self.signum = signum

    def is_set(self) -> bool:
        return self.signum is not None


class RunJob(submitit.helpers.Checkpointable):
    """One run as a submitit job: train ``config`` in ``run_dir`` (resuming if possible).

    ``threads`` (None = torch's default) caps torch's CPU threads, so that parallel local jobs
    share the cores instead of oversubscribing them (OpenMP spin-waits make that many times
    slower)."""

    def __init__(self, run_dir: str, config: dict[str, Any], plugins: tuple[str, ...] = (),
                 threads: int | None = None) -> None:
        self.run_dir = str(run_dir)
        self.config = config
        self.plugins = tuple(plugins)
        self.threads = threads
        self._summary: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        import torch

        from ladabench.train import run as train_run

        if self.threads:
            torch.set_num_threads(self.threads)
        for ref in self.plugins:
            load_plugin(ref)
        cfg = RunConfig.model_validate(self.config)
        stop = _StopFlag()
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGUSR2, stop) if in_main else None
        try:
            summary = train_run(cfg, Path(self.run_dir), quiet=True, should_stop=stop.is_set)
        finally:
            if in_main:
                signal.signal(signal.SIGUSR2, previous)
        self._summary = summary
        if summary.get("status") == "interrupted" and stop.signum is not None and callable(previous):
            previous(stop.signum, None)  # submitit: checkpoint() + requeue (exits the process)
        return summary

    def checkpoint(self, *args: Any, **kwargs: Any) -> submitit.helpers.DelayedSubmission:
        """The requeued task gets a fresh RunJob: all state is in the run directory."""
        s = self._summary or {}
        append_jsonl(Path(self.run_dir) / "metrics.jsonl", {
            "kind": "event", "event": "requeue", "step": s.get("step", 0),
            "images_seen": s.get("images_seen", 0), "wall_time_s": s.get("wall_time_s", 0.0),
        })
        return submitit.helpers.DelayedSubmission(
            RunJob(self.run_dir, self.config, self.plugins, self.threads))


def print_line(line: str) -> None:
    """Progress goes out line by line, also when stdout is a log file (batch jobs, SLURM)."""
    print(line, flush=True)


def run_status(run: Run) -> str:
    """``new`` (no summary yet) or the ``status`` of the run's summary.json."""
    path = run.run_dir / "summary.json"
    if not path.exists():
        return "new"
    return json.loads(path.read_text(encoding="utf-8")).get("status", "unknown")


@dataclass(frozen=True)
class Planned:
    run: Run
    status: str
    action: str  # start | resume | restart | skip


def plan(suite: Suite, only: str | None = None, force: bool = False) -> list[Planned]:
    """What launching would do to each selected run. ``only`` is a glob on the run id (plain
    text matches anywhere in it)."""
    pattern = only if only is None or any(c in only for c in "*?[") else f"*{only}*"
    out = []
    for run in suite.runs:
        if pattern is not None and not fnmatch.fnmatchcase(run.run_id, pattern):
            continue
        status = run_status(run)
        if force and status != "new":
            action = "restart"
        elif status in DONE:
            action = "skip"
        else:
            action = "start" if status == "new" else "resume"
        out.append(Planned(run, status, action))
    return out


def _prepare(planned: list[Planned]) -> list[Run]:
    """Write each run's ``config.yaml`` (or check the one there holds the same experiment) and a
    ``pending`` summary, so ``status`` shows queued runs; ``restart`` deletes the folder first."""
    from ladabench.train.rundir import new_summary, prepare_run_dir, write_summary

    todo = []
    for p in planned:
        if p.action == "skip":
            continue
        if p.action == "restart":
            shutil.rmtree(p.run.run_dir)
        rd = prepare_run_dir(p.run.config, p.run.run_dir)
        if not rd.summary.exists():
            write_summary(rd, new_summary(p.run.config))
        todo.append(p.run)
    return todo


def job_outcome(job: Any) -> str:
    """The run's final status, or ``failed: <one line>`` when the job raised."""
    try:
        return str(job.result().get("status"))
    except Exception as e:  # a job's exception is reported per run, the others go on
        lines = str(e).strip().splitlines()
        return f"failed: {lines[-1] if lines else type(e).__name__}"


def _job(run: Run, suite: Suite, threads: int | None = None) -> RunJob:
    return RunJob(str(run.run_dir), run.config.to_dict(), suite.plugins, threads)


def local_threads(max_parallel: int) -> int | None:
    """Torch threads per local job: the machine's cores shared by the parallel jobs (None when
    one job runs at a time: torch's default already uses every core)."""
    return max(1, (os.cpu_count() or 1) // max_parallel) if max_parallel > 1 else None


def _collect(running: dict[str, Any], outcomes: dict[str, str], progress: SuiteProgress) -> None:
    """Record the jobs of ``running`` that are done (removed from it)."""
    for run_id, job in list(running.items()):
        if job.done():
            outcomes[run_id] = job_outcome(running.pop(run_id))
            progress.end(run_id, outcomes[run_id])
    progress.beat()


def _run_bounded(executor: Any, suite: Suite, runs: list[Run], max_parallel: int,
                 threads: int | None, progress: SuiteProgress) -> dict[str, str]:
    """Submit ``runs`` one by one, never more than ``max_parallel`` unfinished at once, each on
    ``threads`` torch threads (None: the cores shared among the parallel runs)."""
    queue, running, outcomes = list(runs), {}, {}
    threads = threads or local_threads(max_parallel)
    while queue or running:
        while queue and len(running) < max_parallel:
            run = queue.pop(0)
            running[run.run_id] = executor.submit(_job(run, suite, threads))
            progress.start(run.run_id)
        _collect(running, outcomes, progress)
        time.sleep(0.2)
    return outcomes


def _run_debug(executor: Any, suite: Suite, runs: list[Run], progress: SuiteProgress) -> dict[str, str]:
    """In-process and sequential; a failing run raises with its own traceback (and submitit's
    post-mortem debugger), which is what ``debug`` is for."""
    outcomes = {}
    for run in runs:
        progress.start(run.run_id)
        job = executor.submit(_job(run, suite))
        outcomes[run.run_id] = str(job.result().get("status"))
        progress.end(run.run_id, outcomes[run.run_id])
    return outcomes


def _run_array(executor: Any, suite: Suite, runs: list[Run], wait: bool,
               progress: SuiteProgress) -> dict[str, str]:
    """SLURM: one job array, one task per run; with ``wait``, its progress until all ended
    (a task counts as started when it is submitted: the ETA includes queueing)."""
    with executor.batch():
        jobs = [executor.submit(_job(r, suite)) for r in runs]
    for run, job in zip(runs, jobs):
        progress.log(f"submitted {run.run_id} as SLURM job {job.job_id}")
    if not wait:
        return {run.run_id: "pending" for run in runs}
    running, outcomes = {}, {}
    for run, job in zip(runs, jobs):
        running[run.run_id] = job
        progress.start(run.run_id, announce=False)
    while running:
        _collect(running, outcomes, progress)
        time.sleep(1.0)
    return outcomes


def make_executor(kind: str, suite: Suite, profile: SlurmProfile | None) -> Any:
    """The submitit executor for ``kind`` with the suite's resources (``cluster=`` is always
    explicit: AutoExecutor would pick SLURM whenever ``srun`` is installed)."""
    folder = Path(profile.folder) if profile and profile.folder else suite.results_dir / ".submitit"
    res = suite.spec.resources
    if kind == "debug":
        return submitit.DebugExecutor(folder=folder)
    if kind == "local":
        local = submitit.LocalExecutor(folder=folder)
        local.update_parameters(timeout_min=res.time_min)
        return local
    slurm = submitit.AutoExecutor(folder=folder, cluster="slurm",
                                  slurm_max_num_timeout=profile.max_num_timeout)
    slurm.update_parameters(**slurm_parameters(profile, res.gpus, res.cpus, res.mem_gb,
                                               res.time_min, f"ladabench-{suite.name}"))
    return slurm


def _check_arguments(executor: str, profile: str | Path | None, max_parallel: int,
                     threads: int | None = None) -> None:
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if profile is not None and executor != "slurm":
        raise ConfigError(f"--profile: only used with --executor slurm (got --executor {executor})")
    if max_parallel < 1:
        raise ConfigError(f"--max-parallel: expected >= 1, got {max_parallel}")
    if threads is not None and (threads < 1 or executor != "local"):
        raise ConfigError(f"--threads: expected >= 1 with --executor local, got {threads} "
                          f"with --executor {executor}")


def launch(suite: Suite, executor: str = "local", *, profile: str | Path | None = None,
           only: str | None = None, max_parallel: int = 1, force: bool = False,
           wait: bool = True, quiet: bool = False, threads: int | None = None,
           log: Callable[[str], None] = print_line) -> dict[str, str]:
    """Launch the runs of ``suite`` that are not done; return ``{run_id: final status}`` (SLURM
    without ``wait``: ``pending``). Progress lines go to ``log`` (``quiet``: only when a run
    starts or ends). ``threads``: torch threads per local run (default: the cores shared among
    ``max_parallel`` runs). Bad arguments raise ConfigError before anything is written."""
    _check_arguments(executor, profile, max_parallel, threads)
    prof = load_profile(profile) if executor == "slurm" else None
    missing = suite.required_missing
    if missing:
        raise ConfigError(f"{suite.path}: {', '.join(missing)}: required for a real launch; set it "
                          f"with --set {missing[0]}=... or under overrides")
    if suite.spec.kind == "scaling":
        from ladabench.scaling_job import launch_scaling

        return launch_scaling(suite, make_executor(executor, suite, prof), force,
                              wait or executor != "slurm", log)
    planned = plan(suite, only, force)
    for p in planned:
        if p.action == "skip":
            log(f"{p.status:<9} {p.run.run_id} (skipped)")
    todo = _prepare(planned)
    if not todo:
        return {}
    ex = make_executor(executor, suite, prof)
    parallel = {"slurm": len(todo), "debug": 1}.get(executor, max_parallel)
    progress = SuiteProgress(todo, parallel, log, quiet=quiet)
    if executor == "slurm":
        return _run_array(ex, suite, todo, wait, progress)
    if executor == "debug":
        return _run_debug(ex, suite, todo, progress)
    return _run_bounded(ex, suite, todo, max_parallel, threads, progress)


def run_suite(path: str | Path, executor: str = "local", *, profile: str | Path | None = None,
              dry_run: bool = False, only: str | None = None, max_parallel: int = 1,
              force: bool = False, sets: list[str] | tuple[str, ...] = (), smoke: bool = False,
              results_root: str | Path | None = None, wait: bool = True, quiet: bool = False,
              threads: int | None = None, log: Callable[[str], None] = print_line) -> int:
    """``ladabench run``: validate, then print the plan (``dry_run``) or launch. Returns the exit
    code: 0, or 1 when a run failed."""
    from ladabench.suite import load_suite

    from ladabench.status import describe

    suite = load_suite(path, sets=list(sets), smoke=smoke, results_root=results_root)
    if dry_run:
        _check_arguments(executor, profile, max_parallel, threads)
        prof = load_profile(profile) if executor == "slurm" else None
        log(describe(suite, plan(suite, only, force), executor, prof))
        return 0
    outcomes = launch(suite, executor, profile=profile, only=only, max_parallel=max_parallel,
                      force=force, wait=wait, quiet=quiet, threads=threads, log=log)
    failed = [run_id for run_id, status in outcomes.items() if status.startswith("failed")]
    log(f"{len(outcomes)} runs launched, {len(failed)} failed")
    return 1 if failed else 0
