"""The D and G steps: reference semantics (docs/paper.md §8) on stand-in models."""
from __future__ import annotations

import pytest
import torch

from ladabench.config.train import TrainConfig
from ladabench.train.observe import GradNorms
from ladabench.train.steps import Models, d_step, g_step

from .standins import BrightnessD, InvariantD, TinyD, TinyG


def _models(D=None):
    torch.manual_seed(0)
    G, D = TinyG(), D or TinyD()
    opt = lambda m: torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.99), eps=1e-7)
    return Models(G, D, opt(G), opt(D)), GradNorms(G, "G"), GradNorms(D, "D")


def _cfg(**kw):
    return TrainConfig(batch_size=4, noise_dim=4, **kw)


def _real():
    return torch.rand(4, 3, 8, 8) * 2 - 1


def test_without_bcr_real_and_fake_go_through_d_separately_and_augmented():
    m, gn, dn = _models()
    real = _real()
    stats, norms = d_step(m, real, _cfg(diffaug="color"), dn, do_r1=True)
    assert [len(x) for x in m.D.inputs] == [4, 4]  # separate calls: separate BN statistics
    seen_real = m.D.inputs[0]
    assert seen_real.requires_grad and not torch.equal(seen_real, real)  # R1 on augmented reals
    assert stats["r1"] > 0 and stats["cr"] == 0
    assert norms.shape == (2 + 2,) and torch.isfinite(norms).all()


def test_with_bcr_adversarial_and_r1_use_unaugmented_images_and_one_2b_call():
    m, gn, dn = _models()
    real = _real()
    stats, _ = d_step(m, real, _cfg(bcr=True, diffaug="color"), dn, do_r1=True)
    assert [len(x) for x in m.D.inputs] == [4, 4, 8]
    assert torch.equal(m.D.inputs[0].detach(), real)
    assert not m.D.inputs[2].requires_grad  # augmented copies under stop_gradient
    assert stats["cr"] > 0


def test_bcr_loss_is_zero_for_an_augmentation_invariant_d():
    m, _, dn = _models(InvariantD())
    stats, _ = d_step(m, _real(), _cfg(bcr=True, diffaug="color,translation,cutout"), dn, do_r1=True)
    assert stats["cr"].item() == 0.0
    m, _, dn = _models(BrightnessD())
    stats, _ = d_step(m, _real(), _cfg(bcr=True, diffaug="color"), dn, do_r1=True)
    assert stats["cr"].item() > 0.0


@pytest.mark.parametrize("bcr", [False, True])
def test_g_step_freezes_d_and_augments_only_without_bcr(bcr):
    m, gn, _ = _models()
    d_before = [p.detach().clone() for p in m.D.parameters()]
    stats, norms = g_step(m, 4, _cfg(bcr=bcr, diffaug="color"), gn, torch.device("cpu"))
    assert all(p.grad is None for p in m.D.parameters()) and all(p.requires_grad for p in m.D.parameters())
    assert all(torch.equal(a, b) for a, b in zip(d_before, m.D.parameters()))
    (seen,) = m.D.inputs
    assert (seen.abs() <= 1).all() == bcr  # tanh output unaugmented; brightness leaves [-1, 1]
    assert torch.isfinite(stats["loss/G"]) and norms[0] > 0



def _losses(amp: str, steps: int) -> torch.Tensor:
    """(steps, 2) D and G losses of the tiny preset trained from seed 0 on fixed random reals."""
    import warnings

    from ladabench.config import RunConfig
    from ladabench.train.setup import SlowOptionWarning, build_setup

    from .tiny import tiny_overrides

    cfg = RunConfig.model_validate(tiny_overrides(amp=amp, batch_size=4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SlowOptionWarning)  # a CPU without bf16 instructions
        s = build_setup(cfg, torch.device("cpu"), dataset=[])
    gen = torch.Generator().manual_seed(5)
    rows = []
    for _ in range(steps):
        real = torch.rand(4, 3, 32, 32, generator=gen) * 2 - 1
        d_stats, _ = s.d_step(real, do_r1=True)
        g_stats, _ = s.g_step()
        rows.append(torch.stack([d_stats["loss/D"], g_stats["loss/G"]]))
    return torch.stack(rows).float()


def test_bf16_autocast_trains_like_fp32_from_the_same_seed():
    """50 steps in bf16 and fp32 from one seed: the losses drift apart by rounding only.
    Measured on an AVX2 CPU (bf16 emulated): mean |Δ| 0.003 (D) / 0.009 (G) over the 50 steps,
    while two fp32 seeds differ by 0.09 / 0.18 on average; the bounds allow 10× / 5× the drift
    and stay well below the seed spread. (Single steps spike: max |Δ| G reached 0.16.)"""
    fp32, bf16 = _losses("off", 50), _losses("bf16", 50)
    assert torch.isfinite(bf16).all()
    drift = (bf16 - fp32).abs().mean(dim=0)  # (D, G)
    assert drift.min() > 0  # autocast changed the arithmetic of both steps
    assert (drift < torch.tensor([0.03, 0.045])).all(), drift


class SdpaD(torch.nn.Module):
    """8×8 pixels as 64 tokens through dot-product attention (``use_sdpa``), 25 logits."""

    def __init__(self, use_sdpa: bool) -> None:
        from ladabench.attention import build_attention

        super().__init__()
        torch.manual_seed(1)
        self.embed = torch.nn.Linear(3, 8)
        self.attn = build_attention("dot_product", 8, 2, 64, use_sdpa=use_sdpa)
        self.head = torch.nn.Linear(8, 25)
        self.inputs = []

    def forward(self, x):
        self.inputs.append(x)
        tokens = self.embed(x.flatten(2).transpose(1, 2))  # (B, 64, 8)
        return self.head(self.attn(tokens).mean(1))  # (B, 25)


def test_r1_runs_through_fused_sdpa_and_equals_the_explicit_attention():
    from ladabench.train.losses import r1_penalty

    real = _real().requires_grad_(True)
    with pytest.raises(RuntimeError, match="derivative for .* is not implemented"):
        r1_penalty(SdpaD(True)(real), real).backward()  # the fused kernel alone: no 2nd backward
    r1 = {}
    for fused in (True, False):
        torch.manual_seed(2)
        m, _, dn = _models(SdpaD(fused))
        stats, norms = d_step(m, _real(), _cfg(diffaug=[]), dn, do_r1=True)
        r1[fused] = stats["r1"]
        assert torch.isfinite(norms).all()
    assert torch.allclose(r1[True], r1[False], rtol=1e-4)


def test_under_bf16_autocast_both_steps_augment_fp32_fakes():
    m, gn, dn = _models()
    cfg = _cfg(amp="bf16", diffaug="color")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert m.G(torch.randn(4, 4)).dtype == torch.bfloat16  # what G hands to the G step
    g_step(m, 4, cfg, gn, torch.device("cpu"))
    d_step(m, _real(), cfg, dn, do_r1=False)
    assert [x.dtype for x in m.D.inputs] == [torch.float32] * 3
