"""Exponential moving average of the generator (docs/paper.md §8.7, §13).

The EMA starts as an exact copy of G (the PyTorch port's ``deepcopy``; TF's ``clone_model``
re-initialises, a difference we do not reproduce). After every G step each EMA parameter becomes
``decay · ema + (1 - decay) · p``. Buffers (e.g. BatchNorm running statistics of the 128²
conv decoder) are COPIED from G at every update rather than averaged: G's running statistics are
already an average, and copying keeps the EMA's normalisation consistent with the weights G uses.
"""
from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(generator: nn.Module) -> nn.Module:
    """An exact, frozen copy of ``generator`` (eval mode, no gradients)."""
    ema = copy.deepcopy(generator).eval()
    ema.requires_grad_(False)
    return ema


class EMAUpdater:
    """Holds the parameter/buffer lists once so each update is two fused foreach calls."""

    def __init__(self, ema: nn.Module, generator: nn.Module, decay: float) -> None:
        self.decay = decay
        self.ema_params = list(ema.parameters())
        self.params = list(generator.parameters())
        self.ema_buffers = list(ema.buffers())
        self.buffers = list(generator.buffers())

    @torch.no_grad()
    def update(self) -> None:
        # ema + (1 - decay) (p - ema) = decay · ema + (1 - decay) · p
        torch._foreach_lerp_(self.ema_params, self.params, 1.0 - self.decay)
        if self.buffers:
            torch._foreach_copy_(self.ema_buffers, self.buffers)
