"""GAN losses of the reference (docs/paper.md §8.2-§8.4; TF ``utils.get_loss('nsl')``,
``trainer.py``).

Logits are ``(B, 25)`` (D's 5×5 patch output); every mean runs over the batch AND the 25 logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def d_loss_nsl(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-saturating logistic D loss, split ``(mean softplus(-D(x)), mean softplus(D(G(z))))``.

    Args:
        real_logits, fake_logits: (B, 25).
    """
    return F.softplus(-real_logits).mean(), F.softplus(fake_logits).mean()


def g_loss_nsl(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating G loss ``mean softplus(-D(G(z)))``; fake_logits: (B, 25)."""
    return F.softplus(-fake_logits).mean()


def r1_penalty(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """``mean_b ||∂(Σ_b' Σ_j D_j(x_b')) / ∂x_b||²`` (TF ``gp``; no 1/2 factor, weight applied by
    the caller). The graph is kept (``create_graph``) so the penalty trains D.

    Args:
        logits: (B, 25), computed from ``images``.
        images: (B, C, H, W) with ``requires_grad``: the exact tensor D saw.
    """
    (grad,) = torch.autograd.grad(logits.sum(), images, create_graph=True)  # (B, C, H, W)
    return grad.square().sum(dim=(1, 2, 3)).mean()


def bcr_loss(
    real_logits: torch.Tensor,
    fake_logits: torch.Tensor,
    real_aug_logits: torch.Tensor,
    fake_aug_logits: torch.Tensor,
) -> torch.Tensor:
    """Balanced consistency regularisation (unweighted): ``MSE(D(x), D(T x)) + MSE(D(G z), D(T G z))``.

    Keras MSE = mean over the 25 logits then over the batch (= mean over both); gradients flow
    through both branches. All inputs (B, 25).
    """
    return F.mse_loss(real_logits, real_aug_logits) + F.mse_loss(fake_logits, fake_aug_logits)
