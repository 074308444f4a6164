"""Stacked-MNIST mode coverage: each RGB channel holds one digit, so an image is one of
1,000 modes ``100 · d_R + 10 · d_G + d_B``; channels are labelled by the ``digits-cnn`` classifier.

Reported (Metz et al. 2017, Lin et al. 2018 "PacGAN" protocol): the number of modes with at
least one generated sample, and the reverse KL ``KL(p_gen ‖ uniform) = Σ_m p(m) log(1000 p(m))``
(0 when all 1,000 modes are hit equally; log 100 ≈ 4.605 for 10 modes hit equally).
"""
from __future__ import annotations

import torch

from ladabench.metrics.digits_cnn import DigitsNet, classify, default_classifier

N_MODES = 1000


def mode_statistics(modes: torch.Tensor) -> tuple[int, float]:
    """(modes covered, reverse KL to uniform) of mode labels ``(n,)`` in ``[0, 1000)``."""
    counts = torch.bincount(modes.flatten().long(), minlength=N_MODES).double()
    p = counts[counts > 0] / counts.sum()
    return int(len(p)), float((p * torch.log(p * N_MODES)).sum())


def mode_labels(images: torch.Tensor, net: DigitsNet | None = None) -> torch.Tensor:
    """Mode label ``(n,)`` of uint8 stacked digits ``(n, 3, H, W)``: each channel classified alone
    (replicated to grey RGB, the classifier's input)."""
    digits = [classify(images[:, c : c + 1].expand(-1, 3, -1, -1), net) for c in range(3)]
    return 100 * digits[0] + 10 * digits[1] + digits[2]


def count_modes(images: torch.Tensor, net: DigitsNet | None = None) -> tuple[int, float]:
    """(modes covered of 1,000, reverse KL) of uint8 images ``(n, 3, H, W)``.

    ``net`` defaults to the shipped digit classifier; it must be on the images' device.
    """
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(
            f"count_modes: expected uint8 (n, 3, H, W), got {images.dtype} {tuple(images.shape)}")
    return mode_statistics(mode_labels(images, net or default_classifier()))

