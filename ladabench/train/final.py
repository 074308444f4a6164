"""The final evaluation of a finished run (docs/architecture.md, contract 3).

The reference keeps the checkpoint with the best in-loop FID and publishes that checkpoint's FID
and #Images, so the final protocol (``eval.final_n_gen`` / ``final_n_real``) scores two
generators: the one the protocol selects (``checkpoints/best.pt`` when the run kept one, else
the last EMA generator) as ``summary.final``, and the last EMA generator as
``summary.final_last``. Each value carries ``images_seen`` and ``checkpoint`` (the file name).
When both are the same weights (no ``best.pt``, or the best evaluation was the last step) the
generator is scored once.
"""
from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.core.rundir import RunDir
from ladabench.train.checkpoint import load_checkpoint, load_module_state, require


def evaluate_generator(generator: nn.Module, cfg: RunConfig, n_gen: int, n_real: int,
                       device: torch.device) -> dict[str, Any]:
    """``cfg.eval.metrics`` of ``generator``; the caller's RNG streams are left untouched."""
    from ladabench.metrics import evaluate

    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        return evaluate(generator, cfg, n_gen=n_gen, n_real=n_real, device=device)


def stamped(results: dict[str, Any], images_seen: int, checkpoint: str) -> dict[str, Any]:
    """``results`` with each value's ``images_seen`` and ``checkpoint`` added."""
    return {k: {**v, "images_seen": images_seen, "checkpoint": checkpoint}
            for k, v in results.items()}


def final_scores(ema: nn.Module, images_seen: int, cfg: RunConfig, rd: RunDir,
                 device: torch.device) -> dict[str, dict[str, Any]]:
    """``{"final": selected checkpoint's values, "final_last": the last EMA generator's}`` at
    the final sample counts; ``ema`` is the last EMA generator after ``images_seen`` images."""
    e = cfg.eval
    last = stamped(evaluate_generator(ema, cfg, e.final_n_gen, e.final_n_real, device),
                   images_seen, rd.last.name)
    if not rd.best.is_file():
        return {"final": last, "final_last": last}
    best = load_checkpoint(rd.best)
    if require(best, "images_seen", rd.best) == images_seen:
        return {"final": stamped(last, images_seen, rd.best.name), "final_last": last}
    generator = copy.deepcopy(ema)
    load_module_state(generator, best, "G_ema", rd.best)
    selected = evaluate_generator(generator, cfg, e.final_n_gen, e.final_n_real, device)
    return {"final": stamped(selected, best["images_seen"], rd.best.name), "final_last": last}
