"""EMA: start (copy or fresh), decay formula, buffers averaged or copied."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.train.ema import EMAUpdater, make_ema
from ladabench.train.setup import build_setup

from .tiny import tiny_overrides


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def _two_steps(buffers: str) -> tuple[nn.Module, nn.Module, list[torch.Tensor]]:
    """Two G updates (weights shifted, BN statistics moved by a forward) each followed by an
    EMA update with decay 0.9; returns G, the EMA and G's running means after each step."""
    G = _net()
    ema = make_ema(G)
    updater = EMAUpdater(ema, G, 0.9, buffers)
    means = []
    for shift in (1.0, 2.0):
        with torch.no_grad():
            G[0].weight.add_(shift)
        G(torch.randn(8, 3) + shift)  # train mode: updates the BN running statistics
        means.append(G[1].running_mean.clone())
        updater.update()
    return G, ema, means


def test_ema_starts_as_an_exact_frozen_copy_and_follows_the_decay():
    G = _net()
    ema = make_ema(G)
    assert all(torch.equal(a, b) for a, b in zip(ema.state_dict().values(), G.state_dict().values()))
    assert not any(p.requires_grad for p in ema.parameters()) and not ema.training
    start = G[0].weight.detach().clone()
    with torch.no_grad():
        G[0].weight.add_(1.0)
    EMAUpdater(ema, G, 0.9).update()
    torch.testing.assert_close(ema[0].weight, 0.9 * start + 0.1 * (start + 1.0))


def test_batchnorm_statistics_are_averaged_with_the_weights_decay_by_default():
    start = _net()[1].running_mean.clone()  # zeros: BatchNorm's initial running mean
    G, ema, (m1, m2) = _two_steps("average")
    hand = 0.9 * (0.9 * start + 0.1 * m1) + 0.1 * m2
    torch.testing.assert_close(ema[1].running_mean, hand)
    assert not torch.allclose(ema[1].running_mean, G[1].running_mean)
    assert ema[1].num_batches_tracked == 2  # integer buffers are copied


def test_buffers_can_be_copied_from_g_instead():
    G, ema, (_, m2) = _two_steps("copy")
    assert torch.equal(ema[1].running_mean, m2) and torch.equal(ema[1].running_var, G[1].running_var)


def test_a_fresh_start_is_an_independent_initialisation_and_leaves_g_and_d_unchanged():
    cpu = torch.device("cpu")
    copied = build_setup(RunConfig.model_validate(tiny_overrides()), cpu)
    fresh = build_setup(RunConfig.model_validate(tiny_overrides(ema_start="fresh")), cpu)
    for a, b in ((copied.G, fresh.G), (copied.D, fresh.D), (copied.G, copied.G_ema)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    weights = [(n, t) for n, t in fresh.G_ema.state_dict().items() if t.dim() > 1]
    assert all(not torch.equal(t, fresh.G.state_dict()[n]) for n, t in weights)
    assert not fresh.G_ema.training and not any(p.requires_grad for p in fresh.G_ema.parameters())
    # the EMA moves from its own start: ema' = 0.9 · fresh + 0.1 · G (decay 0.9 here)
    name, start = weights[0]
    start = start.clone()
    EMAUpdater(fresh.G_ema, fresh.G, 0.9).update()
    torch.testing.assert_close(fresh.G_ema.state_dict()[name],
                               0.9 * start + 0.1 * fresh.G.state_dict()[name])


def test_an_unknown_buffer_mode_is_refused():
    with pytest.raises(ValueError, match="buffers: expected 'average' or 'copy'"):
        EMAUpdater(_net(), _net(), 0.9, "mean")
