"""One D step and one G step (docs/paper.md §8), pure functions of models, optimisers and a batch.

Each returns its statistics as on-device 0-dim tensors (no host sync). Semantics:
- without bCR: real and fake are augmented (DiffAugment) and go through D in SEPARATE calls
  (separate BatchNorm batch statistics, as the reference); R1 on the augmented reals; the G step
  augments the fakes too;
- with bCR: adversarial loss and R1 on un-augmented images; the augmented copies of real and fake
  are concatenated (2B) and passed through D once; the G step does not augment.
Overhead cuts that keep the maths: G runs under ``no_grad`` in the D step (its output is a
constant there); the D step's backward asks for D's parameters only (not for the reals, which
require grad for R1); D's parameters do not require grad during the G step (only the input
gradient is needed); gradients are freed with ``set_to_none``.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from ladabench.config.train import TrainConfig
from ladabench.train.diffaug import diff_augment
from ladabench.train.draws import OWN, Draws
from ladabench.train.losses import bcr_loss, d_loss_nsl, g_loss_nsl, r1_penalty


@dataclass
class Models:
    G: nn.Module
    D: nn.Module
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    #: called after each G step (EMA update); may be None
    after_g_step: Callable[[], None] | None = None
    #: D for a whole D step that computes R1, whose graph R1 differentiates twice: the eager
    #: module when ``D`` is compiled (AOTAutograd has no double backward; and a compiled pass
    #: in the same step would update BatchNorm's running statistics under the eager graph's
    #: feet); None = ``D``
    D_r1: nn.Module | None = None
    #: D in the G step, where its parameters take no gradient: the module itself, not its
    #: DistributedDataParallel wrapper (which would wait for their gradients); None = ``D``
    D_g: nn.Module | None = None
    #: the per-sample random numbers (latents, DiffAugment) of this process's batch
    draws: Draws = OWN


def autocast_ctx(cfg: TrainConfig, device: torch.device):
    """bf16 autocast when ``cfg.amp == 'bf16'`` (a documented departure), else a no-op."""
    if cfg.amp == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def double_backward_kernels(needed: bool) -> contextlib.AbstractContextManager:
    """R1 differentiates D's gradient again: fused SDPA kernels (flash, memory-efficient, the
    CPU flash kernel) have no double backward, so attention falls back to the math kernel
    (same maths, composed of differentiable ops) wherever ``needed``."""
    return sdpa_kernel([SDPBackend.MATH]) if needed else contextlib.nullcontext()


def d_step(
    m: Models, real: torch.Tensor, cfg: TrainConfig, norms: Callable[[], torch.Tensor], do_r1: bool
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One D update. real: (B, 3, R, R) in [-1, 1].

    Returns the statistics (losses, unweighted R1 and CR, mean logits) and D's grad norms.
    R1 (weight ``r1_weight``, scaled by ``r1_interval`` when lazy) is added when ``do_r1``.
    """
    B = real.shape[0]
    zero = real.new_zeros(())
    D = m.D_r1 if do_r1 and m.D_r1 is not None else m.D
    with torch.no_grad(), autocast_ctx(cfg, real.device):
        fake = m.G(m.draws.randn(B, cfg.noise_dim, device=real.device)).float()
    m.opt_D.zero_grad(set_to_none=True)
    if not cfg.bcr:
        real_in = diff_augment(real, cfg.diffaug, m.draws)
        fake_in = diff_augment(fake, cfg.diffaug, m.draws)
    else:
        real_in, fake_in = real, fake
    if do_r1:
        real_in = real_in.detach().requires_grad_(True)
    with autocast_ctx(cfg, real.device), double_backward_kernels(do_r1):
        real_logits = D(real_in).float()  # (B, 25)
        fake_logits = D(fake_in).float()
    l_real, l_fake = d_loss_nsl(real_logits, fake_logits)
    total = l_real + l_fake
    r1 = r1_penalty(real_logits, real_in) if do_r1 else zero
    total = total + (cfg.r1_weight * cfg.r1_interval) * r1
    cr = zero
    if cfg.bcr:
        # (2B, 3, R, R); drawn as two groups so that a rank's slice is its reals and fakes
        aug = diff_augment(torch.cat([real, fake]).detach(), cfg.diffaug, m.draws.in_groups(2))
        with autocast_ctx(cfg, real.device):
            real_aug, fake_aug = D(aug).float().chunk(2)
        cr = bcr_loss(real_logits, fake_logits, real_aug, fake_aug)
        total = total + cfg.cr_weight * cr
    # only D's parameters: the reals require grad for R1, and their gradient (through the stem
    # and R1's double backward) would be computed for nothing
    total.backward(inputs=list(D.parameters()))
    grad_norms = norms()
    m.opt_D.step()
    stats = {
        "loss/D": (l_real + l_fake).detach(),
        "loss/D_real": l_real.detach(),
        "loss/D_fake": l_fake.detach(),
        "r1": r1.detach(),
        "cr": cr.detach(),
        "logits/real": real_logits.detach().mean(),
        "logits/fake": fake_logits.detach().mean(),
    }
    return stats, grad_norms


def g_step(
    m: Models, batch: int, cfg: TrainConfig, norms: Callable[[], torch.Tensor], device: torch.device
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """One G update on ``batch`` fresh latents; D is frozen (no parameter gradients).

    Returns ``{"loss/G"}`` and G's grad norms.
    """
    m.opt_G.zero_grad(set_to_none=True)
    D = m.D if m.D_g is None else m.D_g
    D.requires_grad_(False)
    try:
        with autocast_ctx(cfg, device):
            fake = m.G(m.draws.randn(batch, cfg.noise_dim, device=device))
        fake = fake.float()  # augmented in fp32, as the D step's fakes
        fake_in = fake if cfg.bcr else diff_augment(fake, cfg.diffaug, m.draws)
        with autocast_ctx(cfg, device):
            logits = D(fake_in).float()
        loss = g_loss_nsl(logits)
        loss.backward()
    finally:
        D.requires_grad_(True)
    grad_norms = norms()
    m.opt_G.step()
    if m.after_g_step is not None:
        m.after_g_step()
    return {"loss/G": loss.detach()}, grad_norms
