"""Cost measures: the training-MAC convention and the params/MACs helper."""
from __future__ import annotations

import pytest
from torch import nn

from ladabench.metrics.costs import model_costs, training_macs


def test_training_macs_convention():
    # 3 × (G + D) × images: 3 × (758,349,824 + 1,000) × 64
    assert training_macs(758_349_824, 1_000, 64) == 3 * 758_350_824 * 64
    assert training_macs(10, 20, 0) == 0
    with pytest.raises(ValueError, match="non-negative"):
        training_macs(-1, 2, 3)


def test_model_costs_counts_linear_and_conv():
    g = nn.Sequential(nn.Linear(8, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)))
    d = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.Flatten(), nn.Linear(5 * 16, 1))
    costs = model_costs(g, d, noise_dim=8, resolution=4)
    assert costs["params"] == {"G": 8 * 48 + 48, "D": 3 * 5 * 9 + 5 + 80 + 1}
    assert costs["macs"] == {"G": 8 * 48, "D": 16 * 5 * 3 * 9 + 80}
    assert "3 x (MACs_G + MACs_D)" in costs["convention"]["train_macs"]
