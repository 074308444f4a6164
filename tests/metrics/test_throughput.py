"""ladabench.metrics.throughput: the FLOPs a step is charged (against fvcore and the R1 schedule),
the peak matmul and the memory figure."""
from __future__ import annotations

import pytest
import torch

from ladabench.config import RunConfig
from ladabench.metrics.flops import count_flops
from ladabench.metrics.throughput import (
    MatmulFlops, bench_step, matmul_peak_flops, mean_step_flops, measure_throughput,
)
from ladabench.models import build_generator

from train.tiny import register_tiny, tiny_overrides

register_tiny()


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One torch thread (see tests/conftest.py)."""


def _cfg(**train) -> RunConfig:
    return RunConfig.model_validate(tiny_overrides(**{"batch_size": 2, **train}))


def test_matmul_flops_of_a_generator_forward_are_twice_fvcores_macs():
    """Two independent counters agree: torch's FLOP formulas = 2 × fvcore's matrix-product MACs."""
    cfg = _cfg()
    G = build_generator(cfg.model, cfg.train.noise_dim)
    z = torch.randn(3, cfg.train.noise_dim)
    with MatmulFlops() as flops, torch.no_grad():
        G(z)
    assert flops.total == 2 * 3 * count_flops(G, z[:1]).macs


def test_step_flops_follow_the_batch_and_the_r1_schedule():
    small, large = bench_step(_cfg(), torch.device("cpu")), bench_step(
        _cfg(batch_size=4), torch.device("cpu"))
    with_r1, without = small.count_flops(True), small.count_flops(False)
    assert with_r1 > 1.1 * without  # R1 adds a double backward through D
    assert large.count_flops(True) == 2 * with_r1  # matmul FLOPs are linear in the batch
    lazy = _cfg(r1_interval=4).train
    assert mean_step_flops(small, lazy) == pytest.approx((with_r1 + 3 * without) / 4)
    no_r1 = _cfg(r1_weight=0.0).train
    assert mean_step_flops(small, no_r1) == without


def test_matmul_peak_is_a_positive_rate_of_the_right_dtype():
    assert 1e8 < matmul_peak_flops(torch.device("cpu"), rounds=1) < 1e14


def test_measure_throughput_reports_speed_share_and_memory():
    r = measure_throughput(_cfg(), torch.device("cpu"), steps=1, warmup=1)
    assert r["train_img_per_s"] == 2 / r["s_per_step"]
    assert r["achieved_gflop_per_s"] == pytest.approx(r["train_gflop_per_step"] / r["s_per_step"])
    assert r["peak_share"] == pytest.approx(r["achieved_gflop_per_s"] / r["matmul_peak_gflop_per_s"])
    assert r["peak_dtype"] == "float32" and r["peak_memory_kind"] == "cpu peak rss growth"
    assert r["peak_memory_bytes"] > 0 and r["tf32"] is False  # models, Adam, activations
