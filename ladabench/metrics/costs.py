"""Cost measures recorded in every run's ``summary.json``: parameters, one-image MACs of G and D
(fvcore, ``ladabench.metrics.flops``) and the training-compute estimate.

Training-MAC convention (documented, approximate): ``train_macs = 3 × (MACs_G + MACs_D) ×
images_seen``, i.e. each image seen costs one forward and one backward (≈ 2 forwards) of G and
of D. The factor 3 is exact for matrix products (FlopCounterMode measures forward + backward =
3.00 × forward for Lada and dense attention, attention.md §8). It under-counts a real GAN step,
where D also sees the fakes (≈ 9 × MACs_D per real image with a D step and a G step), the G
forward is repeated in the D step, and R1 adds a double backward: the figure is for comparing
runs on a cost axis, not for billing.
"""
from __future__ import annotations

import torch
from torch import nn

#: forward + backward ≈ 3 forwards (see the module docstring)
TRAIN_MAC_FACTOR = 3
TRAIN_MACS_CONVENTION = "3 x (MACs_G + MACs_D) per image seen (one forward + backward of each, one image)"


def training_macs(g_macs: int, d_macs: int, images_seen: int, factor: int = TRAIN_MAC_FACTOR) -> int:
    """Estimated training MACs after ``images_seen`` real images (see the module convention)."""
    if min(g_macs, d_macs, images_seen) < 0:
        raise ValueError(f"MACs and images must be non-negative, got {g_macs}, {d_macs}, {images_seen}")
    return int(factor) * (int(g_macs) + int(d_macs)) * int(images_seen)


def model_costs(generator: nn.Module, discriminator: nn.Module, noise_dim: int, resolution: int) -> dict:
    """``{"params": {"G", "D"}, "macs": {"G", "D"}, "convention"}``: one forward of ONE image
    (batch 1), the LadaGAN "FLOPs" convention, on the models' own device."""
    from ladabench.metrics.flops import CONVENTION, count_flops

    device = next(generator.parameters()).device
    g = count_flops(generator, torch.zeros(1, noise_dim, device=device))
    d = count_flops(discriminator, torch.zeros(1, 3, resolution, resolution, device=device))
    return {"params": {"G": g.params, "D": d.params}, "macs": {"G": g.macs, "D": d.macs},
            "convention": {"macs": CONVENTION, "train_macs": TRAIN_MACS_CONVENTION}}
