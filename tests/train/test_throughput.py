"""ladabench.train.throughput: the FLOPs a step is charged (against fvcore and the R1 schedule),
the peak matmul and the memory figure."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ladabench.config import RunConfig
from ladabench.measure.flops import count_flops
from ladabench.train.throughput import (
    MatmulFlops, bench_step, matmul_peak_flops, mean_step_flops,
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


def _bench_in_a_fresh_process(batch: int) -> dict:
    """``ladabench bench --json`` in its own process: RSS growth is only meaningful there (in a
    test process, earlier tests leave freed memory that new tensors reuse)."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'tests'); "
         "from train.tiny import register_tiny; register_tiny(); from ladabench.cli import main; "
         f"sys.exit(main(['bench', '--preset', 'tiny_32', '--batch', '{batch}', '--steps', '1', "
         "'--warmup', '1', '--device', 'cpu', '--threads', '1', '--json']))"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_peak_memory_grows_with_the_batch():
    small, large = _bench_in_a_fresh_process(2), _bench_in_a_fresh_process(64)
    assert small["peak_memory_kind"] == "cpu peak rss growth"
    assert 0 < small["peak_memory_bytes"] < large["peak_memory_bytes"]  # activations scale
    assert large["train_gflop_per_step"] == pytest.approx(32 * small["train_gflop_per_step"])


def test_the_overhead_benchmark_times_the_same_maths_through_ddp():
    """At world size 1 the distributed step (G and D in DistributedDataParallel, averaging over
    one rank) updates the weights exactly as the plain step: ``--ddp-overhead`` compares like
    with like."""
    from torch.nn.parallel import DistributedDataParallel

    from ladabench.train.distributed import single_rank_group

    cfg = _cfg(batch_size=4)
    plain = bench_step(cfg, torch.device("cpu"))  # seeds the global RNG, as the trainer does
    for _ in range(2):
        plain.train_step()
    with single_rank_group(torch.device("cpu")) as dist:
        ranked = bench_step(cfg, torch.device("cpu"), dist)  # seeds it again
        assert dist.active and dist.world_size == 1 and dist.backend == "gloo"
        for _ in range(2):
            ranked.train_step()
    assert isinstance(ranked.setup.d_step.args[0].D, DistributedDataParallel)
    for a, b in ((plain.setup.G, ranked.setup.G), (plain.setup.D, ranked.setup.D)):
        for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
            assert torch.equal(x, y), name
