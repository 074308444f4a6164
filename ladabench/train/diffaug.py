"""DiffAugment (Zhao et al. 2020, ``mit-han-lab/data-efficient-gans`` ``DiffAugment_pytorch.py``;
LadaGAN ``diffaug.py``), same semantics, NCHW.

Policies, applied in the order written in the policy string:
- ``color``: brightness +U(-0.5, 0.5); saturation ×U(0, 2) around the per-pixel channel mean;
  contrast ×U(0.5, 1.5) around the image mean (one draw per image each).
- ``translation``: shift by integers in [-r·S, r·S] (r = 0.125, rounded half up) per image and
  axis, zero fill.
- ``cutout``: zero a square of (0.5·S) pixels (rounded half up) centred at a random pixel,
  clipped at the border.

Random numbers come from the global torch RNG (saved in checkpoints, so resumes are exact),
one draw per image through a :class:`~ladabench.train.draws.Draws` (a rank of a multi-process
run may draw the whole global batch's and keep its slice).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from ladabench.train.draws import OWN, Draws

TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def _uniform(x: torch.Tensor, draws: Draws) -> torch.Tensor:
    return draws.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def color(x: torch.Tensor, draws: Draws = OWN) -> torch.Tensor:
    """x: (B, C, H, W) -> (B, C, H, W): brightness, saturation, contrast."""
    x = x + (_uniform(x, draws) - 0.5)
    mean = x.mean(dim=1, keepdim=True)  # (B, 1, H, W)
    x = (x - mean) * (_uniform(x, draws) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (B, 1, 1, 1)
    return (x - mean) * (_uniform(x, draws) + 0.5) + mean


def translate(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Shift each image with zero fill: out[b, :, i, j] = x[b, :, i + sy_b, j + sx_b] when inside.

    Args:
        x: (B, C, H, W).
        shifts: (B, 2) integer (sy, sx) per image.
    """
    B, _, H, W = x.shape
    dev = x.device
    # index into a 1-pixel zero-padded image; clamping past the border lands on the zero pad
    iy = (torch.arange(H, device=dev) + shifts[:, :1] + 1).clamp_(0, H + 1)  # (B, H)
    ix = (torch.arange(W, device=dev) + shifts[:, 1:] + 1).clamp_(0, W + 1)  # (B, W)
    pad = F.pad(x, (1, 1, 1, 1))  # (B, C, H+2, W+2)
    b = torch.arange(B, device=dev)[:, None, None]
    out = pad.permute(0, 2, 3, 1)[b, iy[:, :, None], ix[:, None, :]]  # (B, H, W, C)
    return out.permute(0, 3, 1, 2)


def translation(x: torch.Tensor, draws: Draws = OWN,
                ratio: float = TRANSLATION_RATIO) -> torch.Tensor:
    """x: (B, C, H, W) -> (B, C, H, W), random shifts in [-int(r·H + 0.5), int(r·H + 0.5)]."""
    B, _, H, W = x.shape
    sy, sx = int(H * ratio + 0.5), int(W * ratio + 0.5)
    ty = draws.randint(-sy, sy + 1, B, 1, device=x.device)
    tx = draws.randint(-sx, sx + 1, B, 1, device=x.device)
    return translate(x, torch.cat([ty, tx], dim=1))


def cutout_mask(
    shape: tuple, centres: torch.Tensor, size: tuple[int, int], device=None
) -> torch.Tensor:
    """(B, 1, H, W) mask, 0 inside a ``size`` square starting at ``centre - size // 2`` (clipped).

    Args:
        shape: (B, C, H, W).
        centres: (B, 2) integer (cy, cx) per image.
    """
    B, _, H, W = shape
    ys = torch.arange(H, device=device)[None, :] - (centres[:, :1] - size[0] // 2)  # (B, H)
    xs = torch.arange(W, device=device)[None, :] - (centres[:, 1:] - size[1] // 2)  # (B, W)
    in_y = (ys >= 0) & (ys < size[0])
    in_x = (xs >= 0) & (xs < size[1])
    return (~(in_y[:, :, None] & in_x[:, None, :])).unsqueeze(1)


def cutout(x: torch.Tensor, draws: Draws = OWN, ratio: float = CUTOUT_RATIO) -> torch.Tensor:
    """x: (B, C, H, W) -> (B, C, H, W) with one zeroed square per image."""
    B, _, H, W = x.shape
    size = int(H * ratio + 0.5), int(W * ratio + 0.5)
    cy = draws.randint(0, H + (1 - size[0] % 2), B, 1, device=x.device)
    cx = draws.randint(0, W + (1 - size[1] % 2), B, 1, device=x.device)
    mask = cutout_mask(x.shape, torch.cat([cy, cx], dim=1), size, x.device)
    return x * mask.to(x.dtype)


POLICIES = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, policies: Sequence[str], draws: Draws = OWN) -> torch.Tensor:
    """Apply ``policies`` in order (``train.diffaug``, e.g. ``("color", "translation")``); none =
    identity.

    x: (B, C, H, W) -> (B, C, H, W); differentiable w.r.t. x.
    """
    for name in policies:
        x = POLICIES[name](x, draws)
    return x
