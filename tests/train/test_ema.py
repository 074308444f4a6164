"""EMA: exact copy at start, decay formula, buffers copied."""
from __future__ import annotations

import torch
from torch import nn

from ladabench.train.ema import EMAUpdater, make_ema


def test_ema_starts_as_an_exact_frozen_copy_and_follows_the_decay():
    torch.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ema = make_ema(G)
    assert all(torch.equal(a, b) for a, b in zip(ema.state_dict().values(), G.state_dict().values()))
    assert not any(p.requires_grad for p in ema.parameters()) and not ema.training
    start = G[0].weight.detach().clone()
    with torch.no_grad():
        G[0].weight.add_(1.0)
    G(torch.randn(8, 3))  # train mode: updates the BN running statistics
    EMAUpdater(ema, G, 0.9).update()
    torch.testing.assert_close(ema[0].weight, 0.9 * start + 0.1 * (start + 1.0))
    assert torch.equal(ema[1].running_mean, G[1].running_mean)  # buffers copied, not averaged
    assert ema[1].num_batches_tracked == 1
