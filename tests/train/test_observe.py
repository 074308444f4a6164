"""Gradient norms against a direct computation; interval analysis (divergence step, spikes)."""
from __future__ import annotations

import math

import pytest
import torch

from ladabench.train.observe import R1_ON, STEP_STATS, GradNorms, StatsLog

from .standins import TinyD


def test_grad_norms_global_mean_and_per_block():
    torch.manual_seed(0)
    D = TinyD()
    D(torch.randn(2, 3, 8, 8)).square().sum().backward()
    out = GradNorms(D, "D")()
    per = [p.grad.norm().item() for p in D.parameters()]
    assert GradNorms(D, "D").names == ["grad_norm/D", "grad_norm_mean/D", "grad_norm/D/conv",
                                       "grad_norm/D/head"]
    assert out[0].item() == pytest.approx(math.sqrt(sum(v * v for v in per)), rel=1e-5)
    # the official PyTorch port's d_l2_norm (docs/paper.md §14.3)
    assert out[1].item() == pytest.approx(sum(per) / len(per), rel=1e-5)
    conv = math.sqrt(sum(p.grad.norm() ** 2 for p in D.conv.parameters()))
    assert out[2].item() == pytest.approx(conv, rel=1e-5)


def test_parameters_outside_every_block_are_reported_as_other():
    D = TinyD()
    D.block_groups = lambda: {"conv": D.conv}
    assert GradNorms(D, "D").names[-2:] == ["grad_norm/D/conv", "grad_norm/D/other"]


def _log(window=20, factor=10.0):
    names = list(STEP_STATS) + [R1_ON, "grad_norm/G", "grad_norm/D"]
    return names, StatsLog(names, ["grad_norm/G", "grad_norm/D"], factor, window)


def _row(names, **vals):
    base = dict.fromkeys(names, 1.0)
    base.update(vals)
    return torch.tensor([base[n] for n in names])


def test_flush_averages_and_finds_the_first_non_finite_step():
    names, log = _log()
    log.push(1, _row(names, **{"loss/G": 1.0, "r1": 4.0}))
    log.push(2, _row(names, **{"loss/G": 3.0, "r1": 0.0, R1_ON: 0.0}))  # lazy R1: skipped
    log.push(3, _row(names, **{"loss/D": math.nan}))
    log.push(4, _row(names, **{"grad_norm/G": math.inf}))
    out = log.flush()
    assert out.bad_step == 3
    assert out.record["loss/G"] == 2.0  # mean of the good steps only
    assert out.record["r1"] == 4.0  # over the steps that computed R1
    assert R1_ON not in out.record
    assert log.flush() is None  # the interval was consumed


def test_spikes_against_the_rolling_median_are_events_not_stops():
    names, log = _log(window=20, factor=10.0)
    for step in range(1, 13):
        log.push(step, _row(names, **{"grad_norm/D": 2.0}))
    log.push(13, _row(names, **{"grad_norm/D": 25.0}))  # > 10 × median 2
    log.push(14, _row(names, **{"grad_norm/D": 19.0}))  # < 10 × median 2
    out = log.flush()
    assert out.bad_step is None
    assert out.spikes == [{"name": "grad_norm/D", "value": 25.0, "median": 2.0, "step": 13}]


def test_no_spike_before_the_history_has_ten_steps():
    names, log = _log()
    log.push(1, _row(names, **{"grad_norm/G": 1.0}))
    log.push(2, _row(names, **{"grad_norm/G": 1000.0}))
    assert log.flush().spikes == []
