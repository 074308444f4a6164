"""``run(cfg, run_dir)``: one config → one run directory (architecture.md, training interface).

Statuses in ``summary.json``: ``running`` while training; ``finished``; ``diverged`` (NaN/Inf,
``diverged_at`` = first bad step); ``interrupted`` (``should_stop()`` returned True: a
checkpoint is written first; Ctrl-C: resumes from the last periodic checkpoint); ``failed``
(an exception, ``error`` = one line). A directory holding ``checkpoints/last.pt`` is
resumed; a ``finished`` or ``diverged`` one is returned untouched.

Costs (``ladabench.measure.costs``): ``params``/``macs`` count one forward of one image (fvcore,
matrix products only); ``train_macs_total`` = 3 × (MACs_G + MACs_D) × images seen, an
approximation (forward + backward of each model per image; it ignores D's second pass on the
fakes, the repeated G forward of the D step and the R1 double backward, so it under-counts the
real work): a comparable cost axis across variants, not a measurement. The convention strings
are stored in ``summary.cost_convention``.
"""
from __future__ import annotations

import resource
from pathlib import Path
from typing import Callable

import torch

from ladabench.config import RunConfig, prepare_run_dir
from ladabench.core.rundir import (
    FINISHED, RunDir, new_summary, read_summary, write_provenance, write_summary,
)
from ladabench.train.loop import Trainer
from ladabench.train.provenance import collect_provenance
from ladabench.device import resolve_device
from ladabench.train.setup import check_device_options
from ladabench.train.trackers import check_trackers

#: in-training metric that selects ``checkpoints/best.pt`` (lower is better)
BEST_METRIC = "fid"


def peak_memory_bytes(device: torch.device) -> int:
    """CUDA: peak allocated by torch; CPU: the process's peak resident set size."""
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def costs(trainer: Trainer) -> dict:
    """``params``, ``macs`` (one forward, one image) and ``cost_convention`` of G and D."""
    from ladabench.measure.costs import run_costs

    # G, not the EMA copy: count_params counts trainable parameters and the EMA's are frozen
    c = run_costs(trainer.s.G, trainer.s.D, trainer.t.noise_dim, trainer.cfg.data.resolution)
    return {"params": c["params"], "macs": c["macs"], "cost_convention": c["convention"]}


def evaluator(cfg: RunConfig, trainer: Trainer) -> Callable[[int], dict] | None:
    """In-training evaluation of the EMA generator (None when disabled); tracks the best FID."""
    if not cfg.eval.metrics or (cfg.eval.every_images == 0 and not cfg.eval.at_images):
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
    from ladabench.metrics import evaluate

    dev = trainer.device
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        return evaluate(trainer.s.G_ema, trainer.cfg, n_gen=n_gen, n_real=n_real, device=dev)


def _finish(summary: dict, trainer: Trainer, status: str) -> None:
    from ladabench.measure.costs import training_macs

    cost = 0
    if summary.get("macs"):
        cost = training_macs(summary["macs"]["G"], summary["macs"]["D"], trainer.images_seen)
    summary.update(
        status=status, step=trainer.step, images_seen=trainer.images_seen,
        wall_time_s=trainer.wall_time(), train_seconds=trainer.training_seconds("wall"),
        train_cpu_seconds=trainer.training_seconds("cpu"),
        stopped_by=trainer.stopped_by if status == "finished" else None,
        train_macs_total=cost, img_per_s=trainer.steady_img_per_s(),
        peak_memory_bytes=peak_memory_bytes(trainer.device), best=trainer.best,
        spikes=trainer.spikes, diverged_at=trainer.diverged_at,
    )


def _train(cfg: RunConfig, rd: RunDir, device, summary: dict, quiet: bool, should_stop) -> Trainer:
    trainer = Trainer(cfg, rd, device, quiet)
    if rd.last.exists():
        trainer.restore(rd.last)
        trainer.event("resume", from_step=trainer.step)
    if not summary.get("macs"):
        summary.update(costs(trainer))
    status = trainer.train(should_stop, evaluator(cfg, trainer))
    if status == "finished" and cfg.eval.metrics:
        results = evaluate_ema(trainer, cfg.eval.final_n_gen, cfg.eval.final_n_real)
        summary["final"] = {k: {**v, "images_seen": trainer.images_seen} for k, v in results.items()}
    _finish(summary, trainer, status)
    return trainer


def run(cfg: RunConfig, run_dir: str | Path, *, quiet: bool = False,
        should_stop: Callable[[], bool] | None = None) -> dict:
    """Train ``cfg`` in ``run_dir`` (resuming from ``checkpoints/last.pt``); return the summary.

    Raises ConfigError before anything is built for bad device options or a run directory that
    holds another config. Any exception during training is recorded (status ``failed``) and
    re-raised.
    """
    device = resolve_device(cfg.train.device)
    check_device_options(cfg.train, device)
    check_trackers(cfg.train)
    from ladabench.models import validate_model_config

    validate_model_config(cfg.model, cfg.train.noise_dim)
    rd = prepare_run_dir(cfg, run_dir)
    summary = read_summary(rd) or new_summary(cfg.run_id(), cfg.suite, cfg.config_hash())
    if summary["status"] in FINISHED:
        return summary
    prov = collect_provenance(device, cfg.train.seed, cfg.config_hash())
    summary.update(status="running", error=None, provenance_sha256=write_provenance(rd, prov))
    write_summary(rd, summary)
    try:
        trainer = _train(cfg, rd, device, summary, quiet, should_stop)
    except KeyboardInterrupt:
        summary["status"] = "interrupted"
        write_summary(rd, summary)
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [""])[0]
        summary.update(status="failed", error=f"{type(e).__name__}: {first}")
        write_summary(rd, summary)
        raise
    write_summary(rd, summary)
    if summary["status"] == "finished":
        trainer.save_finished()
    return summary
