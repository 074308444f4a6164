"""Exponential moving average of the generator (docs/paper.md §8.7, §13).

After every G step each EMA parameter becomes ``decay · ema + (1 - decay) · p``.

Start (``train.ema_start``): ``copy`` (default) makes the EMA an exact copy of G (the PyTorch
port's ``deepcopy``): with decay 0.999 the EMA is usable after a few thousand steps, which short
runs need. ``fresh`` starts it from a second, independent initialisation, as the reference's
Keras ``clone_model`` does (it rebuilds the layers from their config with new initial weights);
the start then fades as ``decay^steps``.

Buffers (``train.ema_buffers``; BatchNorm running statistics of the 128² conv decoder):
``average`` (default) applies the same decay to floating-point buffers, as the reference does
(they are part of ``generator.weights``); integer buffers (``num_batches_tracked``) are copied.
``copy`` takes G's buffers at every update, keeping the EMA's normalisation equal to G's.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(generator: nn.Module, start: nn.Module | None = None) -> nn.Module:
    """A frozen (eval mode, no gradients) EMA generator: an exact copy of ``generator``, or
    ``start`` (a freshly initialised generator of the same architecture) when given."""
    ema = copy.deepcopy(generator) if start is None else start
    ema.eval().requires_grad_(False)
    return ema


class EMAUpdater:
    """Holds the parameter/buffer lists once so each update is a few fused foreach calls."""

    def __init__(self, ema: nn.Module, generator: nn.Module, decay: float,
                 buffers: str = "average") -> None:
        if buffers not in ("average", "copy"):
            raise ValueError(f"buffers: expected 'average' or 'copy', got {buffers!r}")
        self.decay = decay
        self.ema_params = list(ema.parameters())
        self.params = list(generator.parameters())
        pairs = list(zip(ema.buffers(), generator.buffers()))
        average = [buffers == "average" and e.is_floating_point() for e, _ in pairs]
        self.avg_ema = [e for (e, _), a in zip(pairs, average) if a]
        self.avg_src = [b for (_, b), a in zip(pairs, average) if a]
        self.copy_ema = [e for (e, _), a in zip(pairs, average) if not a]
        self.copy_src = [b for (_, b), a in zip(pairs, average) if not a]

    @torch.no_grad()
    def update(self) -> None:
        # ema + (1 - decay) (p - ema) = decay · ema + (1 - decay) · p
        torch._foreach_lerp_(self.ema_params, self.params, 1.0 - self.decay)
        if self.avg_ema:
            torch._foreach_lerp_(self.avg_ema, self.avg_src, 1.0 - self.decay)
        if self.copy_ema:
            torch._foreach_copy_(self.copy_ema, self.copy_src)
