"""Throughput benchmarks: the reference matmul, every registered attention layer at several token
counts, a generator forward and a training step (tiny CPU-sized shapes).

Gate (README "Using the gates in your own CI"): ``benchmarks/gate.sh compare [REF]`` times these
for a reference commit and for the working tree on the same machine and compares the two.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ladabench.attention import build_attention, list_attentions
from ladabench.measure.reference import REFERENCE_SIZE

SUITE = Path(__file__).resolve().parents[1] / "suites" / "ci_regression.yaml"
# Small shapes keep every benchmark in the cache-resident, many-rounds regime where `min` is
# stable on a busy machine (at 1024 tokens the dot-product map made `min` swing 2.3x run to run;
# the scaling to large N is `ladabench bench --scaling`'s job, not the gate's).
DIM, HEADS, BATCH = 32, 2, 1
TOKENS = (64, 256, 576)  # 8×8, 16×16, 24×24 grids (square, so every variant builds)
MODEL_BATCH = 4  # generator forward and train step: many short rounds rather than a few long ones


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_reference_matmul(benchmark):
    """The in-run reference every other time is normalised by (conftest.py)."""
    a = torch.randn(REFERENCE_SIZE, REFERENCE_SIZE)
    benchmark.group = "reference"
    benchmark(torch.matmul, a, a)


@pytest.mark.parametrize("tokens", TOKENS)
@pytest.mark.parametrize("name", list_attentions())
def test_attention_forward(benchmark, name: str, tokens: int):
    layer = build_attention(name, DIM, HEADS, tokens).eval()
    x = torch.randn(BATCH, tokens, DIM)  # (B, N, C)
    benchmark.group = f"attention N={tokens}"
    with torch.no_grad():
        benchmark(layer, x)


@pytest.fixture(scope="module")
def ci_config():
    """The FID gate's run config (suites/ci_regression.yaml, seed 0) with its tiny preset."""
    from ladabench.suite import load_suite

    return load_suite(SUITE).runs[0].config


def test_generator_forward(benchmark, ci_config):
    from ladabench.models import build_generator

    G = build_generator(ci_config.model, ci_config.train.noise_dim).eval()
    z = torch.randn(MODEL_BATCH, ci_config.train.noise_dim)  # (B, noise_dim)
    benchmark.group = "model"
    with torch.no_grad():
        benchmark(G, z)


def test_train_step(benchmark, ci_config):
    """One D step (DiffAugment, R1) and one G step (with EMA), as the trainer runs them."""
    from ladabench.train.setup import build_setup

    res = ci_config.data.resolution
    cfg = ci_config.model_copy(update={"train": ci_config.train.model_copy(
        update={"batch_size": MODEL_BATCH})})
    real = torch.rand(MODEL_BATCH, 3, res, res) * 2 - 1  # (B, 3, R, R)
    setup = build_setup(cfg, torch.device("cpu"), dataset=[])

    def step():
        setup.d_step(real, do_r1=True)
        setup.g_step()

    benchmark.group = "model"
    benchmark(step)
