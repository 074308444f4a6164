"""What a submitit job runs: :class:`RunJob` trains one run, :class:`ScalingJob` runs a
``kind: scaling`` suite's attention sweep. Both are submitit ``Checkpointable``s and carry only
paths and plain data (never models): all state lives in the run directory.

On SIGUSR2 (time limit or preemption) a RunJob asks the trainer to stop at the next step
boundary (``should_stop``); the trainer saves ``checkpoints/last.pt`` and returns
``interrupted``; submitit's own handler then calls :meth:`RunJob.checkpoint` and requeues the
task, which resumes from that checkpoint. The sweep keeps no state worth resuming (minutes, not
hours), so a preempted ScalingJob is requeued from the start (``Checkpointable``'s default).

A data-parallel run is one job of ``world_size`` tasks (SLURM tasks, or the local executor's
processes), each running the same RunJob: each task exports the ``torch.distributed``
variables of its place in the job (:func:`export_distributed_env`) and the trainer sets up its
process group from them. Every task gets the stop signal; submitit checkpoints and requeues
from task 0 only (its handler does nothing in the others), and the launcher reads task 0's
result.
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import submitit

from ladabench.config import RunConfig
from ladabench.core.errors import ConfigError
from ladabench.core.io import append_jsonl
from ladabench.core.rundir import RunDir, RunLockedError, read_summary, run_status
from ladabench.suite.plugins import load_plugin

#: what a scaling sweep writes into ``results/<suite>/`` (its presence means finished)
SCALING_OUTPUT = "scaling.json"
#: the ``torch.distributed`` environment each task of a data-parallel run exports
DISTRIBUTED_ENV = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK",
                   "LOCAL_WORLD_SIZE")


class _StopFlag:
    """SIGUSR2 handler that only records the signal; the trainer polls ``is_set``."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, frame: Any) -> None:
        self.signum = signum

    def is_set(self) -> bool:
        return self.signum is not None


def export_distributed_env(world_size: int) -> dict[str, str]:
    """Inside a submitit job of ``world_size`` tasks: export this task's ``MASTER_ADDR``,
    ``MASTER_PORT`` (the same in every task: drawn from the job id), ``RANK``, ``WORLD_SIZE``,
    ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` (submitit's ``TorchDistributedEnvironment``) and
    return them. ``CUDA_VISIBLE_DEVICES`` stays as the job got it: the trainer picks
    ``cuda:LOCAL_RANK`` among the node's GPUs. Variables inherited from the submitting process
    (e.g. a launcher started under torchrun) are overwritten: the job's own layout counts. A job
    of another size than the suite asked for (e.g. sbatch options set elsewhere) is an error."""
    env = submitit.helpers.TorchDistributedEnvironment()
    if env.world_size != world_size:
        raise ConfigError(f"expected a job of {world_size} tasks (nodes x tasks_per_node), "
                          f"this job has {env.world_size}", key="resources")
    env.export(set_cuda_visible_devices=False, overwrite=True)
    return {key: os.environ[key] for key in DISTRIBUTED_ENV}


#: a job's result when another process holds the run (two launches of one suite at once)
BUSY = "busy"


class RunJob(submitit.helpers.Checkpointable):
    """One run as a submitit job: train ``config`` in ``run_dir`` (resuming if possible).

    ``threads`` (None = torch's default) caps torch's and numpy's BLAS CPU threads, so that
    parallel local jobs share the cores instead of oversubscribing them (OpenMP spin-waits make
    that many times slower). ``world_size`` > 1: the job has that many tasks, one process of
    the run each."""

    def __init__(self, run_dir: str, config: dict[str, Any], plugins: tuple[str, ...] = (),
                 threads: int | None = None, world_size: int = 1) -> None:
        self.run_dir = str(run_dir)
        self.config = config
        self.plugins = tuple(plugins)
        self.threads = threads
        self.world_size = world_size
        self._summary: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        import torch
        from threadpoolctl import threadpool_limits

        from ladabench.train import run as train_run

        if self.threads:
            torch.set_num_threads(self.threads)
        if self.world_size > 1:
            export_distributed_env(self.world_size)
        for ref in self.plugins:
            load_plugin(ref)
        cfg = RunConfig.model_validate(self.config)
        stop = _StopFlag()
        in_main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGUSR2, stop) if in_main else None
        try:
            # numpy's BLAS too (FID's matrix square root): its idle threads spin on the cores
            # the other runs use, and their CPU time counts against this run's time budget
            with threadpool_limits(self.threads):
                summary = train_run(cfg, Path(self.run_dir), quiet=True, should_stop=stop.is_set)
        except RunLockedError as e:  # another launch took the run between its plan and now
            return {"status": BUSY, "error": str(e)}
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
        append_jsonl(RunDir(Path(self.run_dir)).metrics, {
            "kind": "event", "event": "requeue", "step": s.get("step", 0),
            "images_seen": s.get("images_seen", 0), "wall_time_s": s.get("wall_time_s", 0.0),
        })
        return submitit.helpers.DelayedSubmission(
            RunJob(self.run_dir, self.config, self.plugins, self.threads, self.world_size))


class ScalingJob(submitit.helpers.Checkpointable):
    """``ladabench.measure.scaling.run_scaling`` with a suite's options, into ``out_dir``."""

    def __init__(self, out_dir: str, options: dict[str, Any], plugins: tuple[str, ...] = ()) -> None:
        self.out_dir, self.options, self.plugins = str(out_dir), dict(options), tuple(plugins)

    def __call__(self) -> dict[str, str]:
        from ladabench.measure.scaling import run_scaling

        for ref in self.plugins:
            load_plugin(ref)
        run_scaling(self.out_dir, **self.options)
        return {"status": "finished"}


def scaling_status(out_dir: Path) -> str:
    return "finished" if (out_dir / SCALING_OUTPUT).exists() else "new"


def job_outcome(job: Any, run_dir: Path | None = None) -> str:
    """The run's final status, ``busy: <owner>`` when another process trained it, or
    ``failed: <one line> (log <file>)`` when a task raised, or
    ``interrupted: <where it resumes>`` when the job died without a word (SIGKILL, the OOM
    killer: its summary still says ``running`` and no process holds the run). A job of several
    tasks (a data-parallel run) has one result per task; task 0's is the run's."""
    try:
        result = job.results()[0]
    except Exception as e:  # a job's exception is reported per run, the others go on
        killed = run_dir is not None and run_status(RunDir(Path(run_dir))) == "interrupted"
        return killed_text(RunDir(Path(run_dir))) if killed else failure_text(e, job, run_dir)
    status = str(result.get("status"))
    return f"{BUSY}: {result.get('error')}" if status == BUSY else status


def killed_text(rd: RunDir) -> str:
    """``interrupted: ...`` for a job that ended without a result: where the next launch
    resumes from."""
    summary = read_summary(rd) or {}
    ck = summary.get("last_checkpoint")
    where = (f"the last checkpoint, step {ck['step']} ({ck['images_seen']:,} images)"
             if isinstance(ck, dict) else "the start (no checkpoint was written)")
    return (f"interrupted: the job ended without a result (killed?); the next launch resumes "
            f"from {where}")


def _last_error_line(text: str) -> str:
    """The last line of a job's traceback, without submitit's frame of dashes and log paths."""
    lines = [line.strip() for line in text.split("You can check full logs")[0].splitlines()]
    lines = [line for line in lines if line.strip("-")]
    return lines[-1] if lines else ""


def failure_text(error: BaseException, job: Any, run_dir: Path | None = None) -> str:
    """``failed: <one line> (log <file>)``: the error the run's summary recorded (the trainer
    writes it), else the last line of the job's traceback, and the job's stderr log."""
    summary = (read_summary(RunDir(Path(run_dir))) if run_dir is not None else None) or {}
    recorded = summary.get("error") if summary.get("status") == "failed" else None
    line = recorded or _last_error_line(str(error)) or type(error).__name__
    return f"failed: {line} (log {job.paths.stderr})"
