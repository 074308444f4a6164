"""TF/Keras initialisation semantics (docs/paper.md §7): orthogonal kernels (gain 1), zero biases.

A fused projection (e.g. q, k, v in one ``Linear(C, 3C)``) marks its weight with
``weight._ortho_chunks = n``; it is then initialised as ``n`` independent orthogonal blocks,
exactly what three separate Keras ``Dense`` layers would get.
"""
from __future__ import annotations

import torch
from torch import nn


def mark_fused(linear: nn.Linear, chunks: int) -> nn.Linear:
    """Declare that ``linear``'s output rows are ``chunks`` stacked projections."""
    linear.weight._ortho_chunks = chunks  # type: ignore[attr-defined]
    return linear


@torch.no_grad()
def orthogonal_(weight: torch.Tensor) -> torch.Tensor:
    """Orthogonal init, per stacked chunk when the weight is marked fused."""
    chunks = getattr(weight, "_ortho_chunks", 1)
    for block in weight.chunk(chunks, dim=0):
        nn.init.orthogonal_(block)
    return weight


@torch.no_grad()
def orthogonal_init_(module: nn.Module) -> nn.Module:
    """Apply TF init to every Linear / Conv / Embedding below ``module`` (other parameters, such
    as Swin's relative-position table or Linformer's projections, keep their own init)."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.Embedding)):
            orthogonal_(m.weight)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
    return module
