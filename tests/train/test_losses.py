"""Losses against closed forms and finite differences (docs/paper.md §8.2-§8.4)."""
from __future__ import annotations

import math

import torch

from ladabench.train.losses import bcr_loss, d_loss_nsl, g_loss_nsl, r1_penalty

from .standins import TinyD


def test_nsl_losses_are_means_of_log1p_exp_over_batch_and_25_logits():
    real = torch.tensor([[0.0] * 25, [2.0] * 25])
    fake = torch.tensor([[1.0] * 25, [-1.0] * 25])
    l_real, l_fake = d_loss_nsl(real, fake)
    assert math.isclose(l_real.item(), (math.log(2) + math.log1p(math.exp(-2))) / 2, rel_tol=1e-6)
    assert math.isclose(l_fake.item(), (math.log1p(math.e) + math.log1p(math.exp(-1))) / 2, rel_tol=1e-6)
    assert math.isclose(g_loss_nsl(fake).item(),
                        (math.log1p(math.exp(-1)) + math.log1p(math.e)) / 2, rel_tol=1e-6)


def test_r1_equals_finite_difference_estimate():
    """R1 = mean_b ||∂(Σ D(x))/∂x_b||², no 1/2 factor, checked against central differences."""
    torch.manual_seed(0)
    D = TinyD(size=4).double()
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    r1 = r1_penalty(D(x), x)
    eps = 1e-6
    grad = torch.zeros_like(x)
    with torch.no_grad():
        flat, gflat = x.view(-1), grad.view(-1)
        for i in range(flat.numel()):
            old = flat[i].item()
            flat[i] = old + eps
            up = D(x).sum()
            flat[i] = old - eps
            down = D(x).sum()
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
    expected = grad.square().sum(dim=(1, 2, 3)).mean()
    assert math.isclose(r1.item(), expected.item(), rel_tol=1e-7)
    assert r1.requires_grad  # create_graph: the penalty trains D


def test_bcr_is_keras_mse_summed_over_real_and_fake():
    a, b = torch.zeros(2, 25), torch.full((2, 25), 2.0)
    c, d = torch.ones(2, 25), torch.ones(2, 25)
    assert bcr_loss(a, c, b, d).item() == 4.0  # (0-2)² mean + 0
