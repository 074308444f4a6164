"""``run(cfg, run_dir)``: one config → one run directory (architecture.md, training interface).

Statuses in ``summary.json``: ``running`` while training; ``finished``; ``diverged`` (NaN/Inf,
``diverged_at`` = first bad step); ``interrupted`` (``should_stop()`` returned True or a
SIGTERM/SIGINT arrived: a checkpoint is written first; a second Ctrl-C aborts at once and the
run resumes from the last periodic checkpoint); ``failed`` (an exception, ``error`` = one line).
A directory holding ``checkpoints/last.pt`` is resumed (after ``train.session`` tidied it); a
``finished`` or ``diverged`` one is returned untouched.

Costs (``ladabench.measure.costs``): ``params``/``macs`` count one forward of one image (fvcore,
matrix products only); ``train_macs_total`` = 3 × (MACs_G + MACs_D) × images seen, an
approximation (forward + backward of each model per image; it ignores D's second pass on the
fakes, the repeated G forward of the D step and the R1 double backward, so it under-counts the
real work): a comparable cost axis across variants, not a measurement. The convention strings
are stored in ``summary.cost_convention``.
"""
from __future__ import annotations

import signal
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

import torch

from ladabench.config import RunConfig, prepare_run_dir
from ladabench.core.errors import LadabenchError, first_line
from ladabench.core.io import DiskFullError
from ladabench.core.progress import quiet_bars
from ladabench.core.rundir import (
    FINISHED, RunDir, RunLock, RunLockedError, check_run_folder, new_summary, read_summary,
    write_provenance, write_summary,
)
from ladabench.train.distributed import DistContext, process_group
from ladabench.train.final import evaluate_generator, final_scores
from ladabench.train.loop import Trainer
from ladabench.train.session import start_session
from ladabench.train.signals import StopSignals
from ladabench.train.provenance import collect_provenance
from ladabench.train.setup import check_device_options
from ladabench.train.trackers import check_trackers

#: in-training metric that selects ``checkpoints/best.pt`` (lower is better)
BEST_METRIC = "fid"


def costs(trainer: Trainer) -> dict:
    """``params``, ``macs`` (one forward, one image) and ``cost_convention`` of G and D."""
    from ladabench.measure.costs import run_costs

    # G, not the EMA copy: count_params counts trainable parameters and the EMA's are frozen
    c = run_costs(trainer.s.G, trainer.s.D, trainer.t.noise_dim, trainer.cfg.data.resolution)
    return {"params": c["params"], "macs": c["macs"], "cost_convention": c["convention"]}


def evaluator(cfg: RunConfig, trainer: Trainer) -> Callable[[int], dict] | None:
    """In-training evaluation of the EMA generator (None when disabled); tracks the best FID."""
    if not cfg.eval.metrics or (cfg.eval.period_images(1) == 0 and not cfg.eval.at_images):
        return None

    def on_eval(images_seen: int) -> dict:
        results = evaluate_ema(trainer, cfg.eval.n_gen, cfg.eval.n_real)
        trainer.record({
            "kind": "eval", "step": trainer.step, "images_seen": images_seen,
            "wall_time_s": trainer.wall_time(), "results": results,
        })
        value = results.get(BEST_METRIC, {}).get("value")
        best = trainer.best.get(BEST_METRIC, {}).get("value")
        improved = value is not None and (best is None or value < best)
        if improved:
            trainer.best = {k: {**v, "images_seen": images_seen} for k, v in results.items()}
        return {"improved": improved}

    return on_eval


def evaluate_ema(trainer: Trainer, n_gen: int, n_real: int) -> dict:
    """Metrics of the EMA generator; the training RNG streams are left untouched."""
    with trainer.memory.excluded():
        return evaluate_generator(trainer.s.G_ema, trainer.cfg, n_gen, n_real, trainer.device)


def _finish(summary: dict, trainer: Trainer, status: str, stopped_by: str | None) -> None:
    from ladabench.measure.costs import training_macs

    cost = 0
    if summary.get("macs"):
        cost = training_macs(summary["macs"]["G"], summary["macs"]["D"], trainer.images_seen)
    summary.update(
        status=status, step=trainer.step, images_seen=trainer.images_seen,
        wall_time_s=trainer.wall_time(), train_seconds=trainer.training_seconds("wall"),
        train_cpu_seconds=trainer.training_seconds("cpu"), stopped_by=stopped_by,
        train_macs_total=cost, img_per_s=trainer.steady_img_per_s(),
        peak_memory_bytes=trainer.memory.bytes(), best=trainer.best,
        spikes=trainer.spikes, diverged_at=trainer.diverged_at,
        last_checkpoint=trainer.last_checkpoint,
    )


def _checkpoint_recorder(summary: dict, trainer: Trainer, rd: RunDir) -> Callable[[], None]:
    """Keep ``summary.json`` truthful while training: step, images seen and the checkpoint
    after every ``last.pt`` write (a killed run then shows where it can resume from)."""
    def record() -> None:
        summary.update(step=trainer.step, images_seen=trainer.images_seen,
                       wall_time_s=trainer.wall_time(), last_checkpoint=trainer.last_checkpoint)
        write_summary(rd, summary)

    return record


def _stop_reason(status: str, trainer: Trainer) -> str | None:
    """``summary.stopped_by``: what ended the schedule (finished), which signal or a stop
    request (interrupted; the signal that any rank received), else None."""
    if status == "finished":
        return trainer.stopped_by
    if status == "interrupted":
        code = trainer.stop_code
        return signal.Signals(code).name if code > 1 else "stop_request"
    return None


def _train(cfg: RunConfig, rd: RunDir, trainer: Trainer, summary: dict, lock: RunLock | None,
           should_stop: Callable[[], int]) -> str:
    """Resume, train, score: every rank resumes from the same ``last.pt`` and trains; rank 0
    tidies the run directory, records and scores (the others wait)."""
    if rd.last.exists():
        trainer.restore(rd.last)
        trainer.memory.peak = summary.get("peak_memory_bytes") or 0  # earlier sessions'
    main = trainer.dist.is_main
    if main:
        start_session(rd, trainer, lock)
        if not summary.get("macs"):
            summary.update(costs(trainer))
        trainer.on_checkpoint = _checkpoint_recorder(summary, trainer, rd)
    scores = None
    try:
        status = trainer.train(should_stop, evaluator(cfg, trainer))
        if main and status == "finished" and cfg.eval.metrics:
            with trainer.memory.excluded():
                scores = final_scores(trainer.s.G_ema, trainer.images_seen, cfg, rd,
                                      trainer.device)
            summary.update(scores)
    finally:
        trainer.close_trackers(scores)
    return status


def _kept(trainer: Trainer | None) -> str:
    ck = trainer.last_checkpoint if trainer is not None else None
    if ck is None:
        return "no checkpoint was written yet"
    return f"the last good checkpoint at step {ck['step']} is kept"


def _record_failure(rd: RunDir, summary: dict, trainer: Trainer | None, status: str,
                    error: str | None, dist: DistContext) -> None:
    """The summary of a run that did not end normally, with the step and images it reached
    (rank 0 writes it)."""
    if not dist.is_main:
        return
    if trainer is not None:
        _finish(summary, trainer, status, None)
    summary.update(status=status, error=error)
    write_summary(rd, summary)


def _provenance(device: torch.device, cfg: RunConfig, dist: DistContext) -> dict:
    """The provenance record; with several ranks, also the world size, the backend and every
    rank's host and device (gathered, so every rank must call it)."""
    prov = collect_provenance(device, cfg.train.seed, cfg.config_hash())
    ranks = dist.gather({"hostname": prov["hostname"], "device": prov["device"]})
    prov.update(world_size=dist.world_size, backend=dist.backend)
    if dist.world_size > 1:
        prov["ranks"] = ranks
    return prov


def _start(cfg: RunConfig, run_dir: Path, dist: DistContext,
           stack: ExitStack) -> tuple[RunDir, dict, RunLock | None, str]:
    """Rank 0 takes the run directory (lock, config, summary) and tells the other ranks
    whether to train (``"train"``), that the run is complete, that another trainer holds it
    (``"busy"``), or that it could not start (e.g. another config is in it: the error is rank
    0's to report)."""
    try:
        if dist.is_main:
            check_run_folder(run_dir)
        lock = stack.enter_context(RunLock(RunDir(run_dir))) if dist.is_main else None
        rd = prepare_run_dir(cfg, run_dir) if dist.is_main else RunDir(run_dir)
        summary = (read_summary(rd) or new_summary(cfg.run_id(), cfg.suite, cfg.config_hash())
                   if dist.is_main else {})
    except RunLockedError:  # the other ranks report it as such too (a job then reads busy)
        dist.broadcast("busy")
        raise
    except BaseException:
        dist.broadcast("failed")
        raise
    go = dist.broadcast("train" if summary.get("status") not in FINISHED else summary["status"])
    return rd, summary, lock, go


def run(cfg: RunConfig, run_dir: str | Path, *, quiet: bool = False,
        should_stop: Callable[[], bool] | None = None) -> dict:
    """Train ``cfg`` in ``run_dir`` (resuming from ``checkpoints/last.pt``); return the summary.

    The process holds the run directory's lock (``RunLock``) throughout: a second trainer
    fails at once (RunLockedError, exit 2). SIGTERM/SIGINT stop at the next step boundary
    after a checkpoint (``interrupted``, ``stopped_by`` = the signal). Raises ConfigError before
    anything is built for bad device options, a run directory that holds another config, or a
    ``run_dir`` that is a folder of other files (not a run directory).
    Any exception during training is recorded (status ``failed``, with the step reached) and
    re-raised; a full disk as one DiskFullError line that says which checkpoint is kept.

    ``quiet``: no progress bars while it runs (also the decoding of a folder data set).
    Launched as one of several processes (``ladabench.train.distributed``: the launcher's
    RANK, WORLD_SIZE, ... variables) it trains its share of the run; rank 0 holds the lock and
    writes the run directory, and every rank returns the summary rank 0 wrote.
    """
    from ladabench.models import validate_model_config

    check_trackers(cfg.train)
    validate_model_config(cfg.model)
    with process_group(cfg.train.device) as (dist, device), ExitStack() as stack:
        stack.enter_context(quiet_bars(quiet))
        check_device_options(cfg.train, device)
        rd, summary, lock, go = _start(cfg, Path(run_dir), dist, stack)
        if go != "train":
            if go == "busy":
                raise RunLockedError(f"{run_dir}: rank 0 found another process training in "
                                     "this run directory")
            if go == "failed":
                raise LadabenchError(f"{run_dir}: rank 0 could not start the run (its error "
                                     "says why)")
            return _shared_summary(rd, summary, dist)
        signals = stack.enter_context(StopSignals())
        prov = _provenance(device, cfg, dist)
        if dist.is_main:
            summary.update(status="running", error=None, world_size=dist.world_size,
                           provenance_sha256=write_provenance(rd, prov))
            write_summary(rd, summary)
        _session(cfg, rd, device, dist, summary, lock, signals, quiet, should_stop)
        return _shared_summary(rd, summary, dist)


def _shared_summary(rd: RunDir, summary: dict, dist: DistContext) -> dict:
    """Rank 0's ``summary``; the other ranks read it once rank 0 has written it (it may still
    be scoring the generator while they wait)."""
    dist.wait_for_main()
    return summary if dist.is_main else read_summary(rd) or {}


def _session(cfg: RunConfig, rd: RunDir, device: torch.device, dist: DistContext, summary: dict,
             lock: RunLock | None, signals: StopSignals, quiet: bool,
             should_stop: Callable[[], bool] | None) -> None:
    """One training session; rank 0 records how it ended in ``summary``."""
    def stop() -> int:
        """The number of the stop signal received, 1 for a stop request, else 0."""
        return signals.signum or int(should_stop is not None and should_stop())

    trainer = None
    try:
        trainer = Trainer(cfg, rd, device, quiet, dist)
        status = _train(cfg, rd, trainer, summary, lock, stop)
    except KeyboardInterrupt:
        _record_failure(rd, summary, trainer, "interrupted", None, dist)
        raise
    except DiskFullError as e:
        message = f"{e}; {_kept(trainer)}"
        _record_failure(rd, summary, trainer, "failed", f"DiskFullError: {message}", dist)
        raise DiskFullError(message) from None
    except Exception as e:
        _record_failure(rd, summary, trainer, "failed", f"{type(e).__name__}: {first_line(e)}",
                        dist)
        raise
    if dist.is_main:
        _finish(summary, trainer, status, _stop_reason(status, trainer))
        write_summary(rd, summary)
        if summary["status"] == "finished":
            trainer.save_finished()
