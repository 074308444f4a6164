"""Launch a validated suite through submitit: ``local`` (subprocesses, at most ``max_parallel``
at once), ``debug`` (in-process, sequential, real tracebacks) or ``slurm`` (one job array, one
task per run). Each run is a :class:`ladabench.launch.jobs.RunJob`. Finished runs are skipped,
unfinished ones resume, ``force`` deletes a run's folder and starts it again.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import submitit

from ladabench.config import prepare_run_dir
from ladabench.config.profiles import SlurmProfile, load_profile, slurm_parameters
from ladabench.core.errors import ConfigError
from ladabench.core.rundir import RunLockedError, describe_owner, new_summary, write_summary
from ladabench.launch.jobs import (
    SCALING_OUTPUT, RunJob, ScalingJob, failure_text, job_outcome, scaling_status,
)
from ladabench.launch.plan import Planned, plan
from ladabench.launch.preflight import preflight
from ladabench.launch.progress import SuiteProgress, Terminal
from ladabench.launch.status import describe
from ladabench.suite import Run, Suite, load_suite

EXECUTORS = ("local", "debug", "slurm")


def print_line(line: str) -> None:
    """Progress goes out line by line, also when stdout is a log file (batch jobs, SLURM)."""
    print(line, flush=True)


def _prepare(planned: list[Planned], world_size: int) -> list[Run]:
    """Write each run's ``config.yaml`` (or check the one there holds the same experiment) and a
    ``pending`` summary of ``world_size`` processes, so ``status`` shows queued runs (also
    without the suite file); ``restart`` deletes the folder first."""
    todo = []
    for p in planned:
        if p.action in ("skip", "busy"):
            continue
        if p.action == "restart":
            shutil.rmtree(p.run.run_dir)
        rd = prepare_run_dir(p.run.config, p.run.run_dir)
        if not rd.summary.exists():
            cfg = p.run.config
            write_summary(rd, new_summary(cfg.run_id(), cfg.suite, cfg.config_hash(), world_size))
        todo.append(p.run)
    return todo


def _job(run: Run, suite: Suite, threads: int | None = None) -> RunJob:
    return RunJob(str(run.run_dir), run.config.to_dict(), suite.plugins, threads,
                  suite.resources.world_size)


def local_threads(max_parallel: int, processes: int = 1) -> int | None:
    """Torch threads per process of a local job: the machine's cores shared by the
    ``processes`` of each of the parallel jobs (None when one single-process job runs at a
    time: torch's default already uses every core)."""
    shared = max_parallel * processes
    return max(1, (os.cpu_count() or 1) // shared) if shared > 1 else None


def local_gpu_groups(gpus: int, max_parallel: int) -> list[tuple[int, ...]]:
    """The GPUs of each of ``max_parallel`` parallel local jobs: disjoint groups of ``gpus``
    ids taken from this process's ``CUDA_VISIBLE_DEVICES`` (integer ids), or 0, 1, ... when it
    is unset. submitit hands a local job ``CUDA_VISIBLE_DEVICES`` = its group (empty: no GPU)."""
    if gpus == 0:
        return [()] * max_parallel
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    needed = gpus * max_parallel
    if visible is None:
        ids = list(range(needed))
    elif all(part.strip().isdigit() for part in visible.split(",") if part.strip()):
        ids = [int(part) for part in visible.split(",") if part.strip()]
    else:
        raise ConfigError(f"CUDA_VISIBLE_DEVICES: expected integer GPU ids for --executor local, "
                          f"got {visible!r}")
    if len(ids) < needed:
        raise ConfigError(f"resources.gpus: {max_parallel} parallel runs x {gpus} GPUs need "
                          f"{needed} GPUs, CUDA_VISIBLE_DEVICES={visible!r} lists {len(ids)}")
    return [tuple(ids[i * gpus:(i + 1) * gpus]) for i in range(max_parallel)]


def _launch_scaling(suite: Suite, executor: Any, force: bool, wait: bool,
                    log: Callable[[str], None]) -> dict[str, str]:
    """Submit the sweep unless its output exists (``force``: run it again)."""
    if scaling_status(suite.results_dir) == "finished" and not force:
        log(f"finished  {suite.name} scaling sweep (skipped)")
        return {}
    job = executor.submit(ScalingJob(str(suite.results_dir), suite.scaling, suite.plugins))
    log(f"submitted {suite.name} scaling sweep as job {job.job_id}")
    if not wait:
        return {"scaling": "pending"}
    status = job_outcome(job)
    log(f"{status:<9} {suite.name} scaling sweep -> {suite.results_dir / SCALING_OUTPUT}")
    return {"scaling": status}


def _collect(running: dict[str, Any], outcomes: dict[str, str], progress: SuiteProgress) -> None:
    """Record the jobs of ``running`` that are done (removed from it)."""
    for run_id, job in list(running.items()):
        if job.done():
            outcomes[run_id] = job_outcome(running.pop(run_id), progress.runs[run_id].run_dir)
            progress.end(run_id, outcomes[run_id])
    progress.beat()


def _run_bounded(executor: Any, suite: Suite, runs: list[Run], max_parallel: int,
                 threads: int | None, progress: SuiteProgress) -> dict[str, str]:
    """Submit ``runs`` one by one, never more than ``max_parallel`` unfinished at once, each on
    ``threads`` torch threads (None: the cores shared among the parallel runs)."""
    queue, running, outcomes = list(runs), {}, {}
    threads = threads or local_threads(max_parallel, suite.resources.world_size)
    free = local_gpu_groups(suite.spec.resources.gpus, max_parallel)
    held: dict[str, tuple[int, ...]] = {}
    while queue or running:
        while queue and len(running) < max_parallel:
            run = queue.pop(0)
            held[run.run_id] = free.pop(0)
            if held[run.run_id]:
                executor.update_parameters(visible_gpus=held[run.run_id])
            running[run.run_id] = executor.submit(_job(run, suite, threads))
            progress.start(run.run_id)
        _collect(running, outcomes, progress)
        free += [held.pop(run_id) for run_id in list(held) if run_id not in running]
        time.sleep(0.2)
    return outcomes


def _run_debug(executor: Any, suite: Suite, runs: list[Run], progress: SuiteProgress,
               pdb: bool = False) -> dict[str, str]:
    """In-process and sequential, which is what ``debug`` is for: a failing run prints its
    traceback and ends the launch (``pdb``: in submitit's post-mortem debugger first)."""
    outcomes = {}
    for run in runs:
        progress.start(run.run_id)
        job = executor.submit(_job(run, suite))
        error = None if pdb else job.exception()
        if error is None:
            outcomes[run.run_id] = job_outcome(job, run.run_dir)
        else:
            traceback.print_exception(error)
            outcomes[run.run_id] = failure_text(error, job, run.run_dir)
        progress.end(run.run_id, outcomes[run.run_id])
        if outcomes[run.run_id].startswith("failed"):
            break
    return outcomes


def _run_array(executor: Any, suite: Suite, runs: list[Run], wait: bool,
               progress: SuiteProgress) -> dict[str, str]:
    """SLURM: one job array, one task per run; with ``wait``, its progress until all ended
    (a task counts as started when it is submitted: the ETA includes queueing). The processes
    of a data-parallel run use ``resources.cpus`` torch threads each: several share a node, and
    a cluster that does not bind tasks to their CPUs would let each take every core."""
    res = suite.resources
    threads = res.cpus if res.world_size > 1 else None
    with executor.batch():
        jobs = [executor.submit(_job(r, suite, threads)) for r in runs]
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
    res = suite.resources
    if kind == "debug":
        return submitit.DebugExecutor(folder=folder)
    if kind == "local":
        local = submitit.LocalExecutor(folder=folder)
        local.update_parameters(timeout_min=res.time_min, gpus_per_node=res.gpus,
                                tasks_per_node=res.processes_per_node,
                                visible_gpus=local_gpu_groups(res.gpus, 1)[0])
        return local
    slurm = submitit.AutoExecutor(folder=folder, cluster="slurm",
                                  slurm_max_num_timeout=profile.max_num_timeout)
    slurm.update_parameters(**slurm_parameters(profile, res, f"ladabench-{suite.name}"))
    return slurm


#: seconds between progress ticks: in a log file, and on a terminal (redrawn in place)
TICK_S, TERMINAL_TICK_S = 60.0, 5.0


def _progress(runs: list[Run], parallel: int, log: Callable[[str], None],
              quiet: bool) -> SuiteProgress:
    """Plain progress lines to ``log``; on a terminal (the default ``log`` printing to a TTY)
    the tick's lines as a block redrawn in place, more often."""
    if log is print_line and sys.stdout.isatty() and not quiet:
        terminal = Terminal()
        return SuiteProgress(runs, parallel, terminal.log, every_s=TERMINAL_TICK_S,
                             live=terminal.live)
    return SuiteProgress(runs, parallel, log, quiet=quiet, every_s=TICK_S)


def _check_arguments(executor: str, profile: str | Path | None, max_parallel: int,
                     threads: int | None = None, pdb: bool = False) -> None:
    if executor not in EXECUTORS:
        raise ConfigError(f"--executor: expected one of {', '.join(EXECUTORS)}, got {executor!r}")
    if profile is not None and executor != "slurm":
        raise ConfigError(f"--profile: only used with --executor slurm (got --executor {executor})")
    if max_parallel < 1:
        raise ConfigError(f"--max-parallel: expected >= 1, got {max_parallel}")
    if threads is not None and (threads < 1 or executor != "local"):
        raise ConfigError(f"--threads: expected >= 1 with --executor local, got {threads} "
                          f"with --executor {executor}")
    if pdb and executor != "debug":
        raise ConfigError(f"--pdb: only used with --executor debug (got --executor {executor})")


def _check_layout(suite: Suite, executor: str) -> None:
    """The local executor runs one node; the debug executor one process (in this one)."""
    res = suite.resources
    if executor == "local" and res.nodes > 1:
        raise ConfigError(f"expected 1 with --executor local (one machine), got {res.nodes}; "
                          "use --executor slurm", key="resources.nodes", source=str(suite.path))
    if executor == "debug" and res.world_size > 1:
        raise ConfigError(f"expected one process with --executor debug (it trains in this "
                          f"process), got {res.world_size}; use --executor local or slurm",
                          key="resources", source=str(suite.path))


def _check_required(suite: Suite) -> None:
    """Keys a run needs set before it can be launched (e.g. where a folder data set lives)."""
    missing = suite.required_missing
    if missing:
        raise ConfigError(f"{suite.path}: {', '.join(missing)}: required for a real launch; set it "
                          f"with --set {missing[0]}=... or under overrides")


def launch(suite: Suite, executor: str = "local", *, profile: str | Path | None = None,
           only: str | None = None, max_parallel: int = 1, force: bool = False,
           wait: bool = True, quiet: bool = False, threads: int | None = None,
           pdb: bool = False, log: Callable[[str], None] = print_line) -> dict[str, str]:
    """Launch the runs of ``suite`` that are not done; return ``{run_id: final status}`` (SLURM
    without ``wait``: ``pending``). Progress lines go to ``log`` (``quiet``: only when a run
    starts or ends). ``threads``: torch threads per local run (default: the cores shared among
    ``max_parallel`` runs). ``pdb``: the debug executor stops in the post-mortem debugger of a
    failing run. Bad arguments raise ConfigError before anything is written."""
    _check_arguments(executor, profile, max_parallel, threads, pdb)
    _check_layout(suite, executor)
    if executor == "local":  # enough GPUs for the parallel runs, before anything is written
        local_gpu_groups(suite.spec.resources.gpus, max_parallel)
    prof = load_profile(profile) if executor == "slurm" else None
    _check_required(suite)
    if suite.spec.kind == "scaling":
        return _launch_scaling(suite, make_executor(executor, suite, prof), force,
                              wait or executor != "slurm", log)
    planned = plan(suite, only, force)
    busy = [p for p in planned if p.action == "busy"]
    if force and busy:
        raise RunLockedError(f"{busy[0].run.run_dir}: --force would delete a run that "
                             f"{describe_owner(busy[0].owner)} is training; stop it first")
    for p in planned:
        if p.action == "skip":
            log(f"{p.status:<9} {p.run.run_id} (skipped)")
        elif p.action == "busy":
            log(f"running   {p.run.run_id} ({describe_owner(p.owner)} trains it; left alone)")
    todo = _prepare(planned, suite.resources.world_size)
    if not todo:
        return {}
    ex = make_executor(executor, suite, prof)
    parallel = {"slurm": len(todo), "debug": 1}.get(executor, max_parallel)
    progress = _progress(todo, parallel, log, quiet)
    if executor == "slurm":
        return _run_array(ex, suite, todo, wait, progress)
    if executor == "debug":
        return _run_debug(ex, suite, todo, progress, pdb)
    return _run_bounded(ex, suite, todo, max_parallel, threads, progress)


def _preflight(suite: Suite, executor: str, only: str | None, force: bool, results_key: str,
               dry_run: bool, log: Callable[[str], None]) -> None:
    """``ladabench.launch.preflight`` on the runs a launch would start or resume (the devices
    only where they run: not for SLURM; no download for a dry run); warnings go to ``log``."""
    if suite.spec.kind != "train":
        return
    configs = [p.run.config for p in plan(suite, only, force) if p.action not in ("skip", "busy")]
    for warning in preflight(configs, str(suite.path), suite.results_dir, results_key,
                             device=executor != "slurm", download=not dry_run):
        log(f"warning: {warning}")


def run_suite(path: str | Path, executor: str = "local", *, profile: str | Path | None = None,
              dry_run: bool = False, only: str | None = None, max_parallel: int = 1,
              force: bool = False, sets: list[str] | tuple[str, ...] = (), smoke: bool = False,
              results_root: str | Path | None = None, wait: bool = True, quiet: bool = False,
              threads: int | None = None, allow_plugins: tuple[str | Path, ...] = (),
              pdb: bool = False, log: Callable[[str], None] = print_line) -> int:
    """``ladabench run``: validate and pre-flight, then print the plan (``dry_run``, which runs
    no plugin) or launch. Returns the exit code: 0, or 1 when a run failed or was interrupted
    (each failed run's one-line error and log file are printed last; an interrupted run
    resumes on the next launch)."""
    suite = load_suite(path, sets=list(sets), smoke=smoke, results_root=results_root,
                       run_plugins=not dry_run, allow_plugins=tuple(allow_plugins))
    _check_arguments(executor, profile, max_parallel, threads, pdb)
    _check_layout(suite, executor)
    _check_required(suite)
    _preflight(suite, executor, only, force,
               "results_root" if results_root is None else "--results", dry_run, log)
    if dry_run:
        prof = load_profile(profile) if executor == "slurm" else None
        log(describe(suite, plan(suite, only, force), executor, prof))
        return 0
    outcomes = launch(suite, executor, profile=profile, only=only, max_parallel=max_parallel,
                      force=force, wait=wait, quiet=quiet, threads=threads, pdb=pdb, log=log)
    failed = {run_id: status for run_id, status in outcomes.items() if status.startswith("failed")}
    stopped = {run_id: status for run_id, status in outcomes.items()
               if status.startswith("interrupted")}
    log(f"{len(outcomes)} run{'' if len(outcomes) == 1 else 's'} launched, {len(failed)} failed"
        + (f", {len(stopped)} interrupted" if stopped else ""))
    for run_id, status in failed.items():
        log(f"failed    {run_id}: {status.removeprefix('failed: ')}")
    return 1 if failed or stopped else 0
