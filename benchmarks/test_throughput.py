"""Throughput benchmarks: the reference matmul, every registered attention layer at several token
counts, a generator forward and a training step (tiny CPU-sized shapes).

Run and gate (README "Using the gates in your own CI"):
    pytest benchmarks --benchmark-storage=file://baselines/regression/benchmarks \\
        --benchmark-compare --benchmark-compare-fail=min:NN%
"""
from __future__ import annotations

import pytest
import torch

from ladabench.attention import build_attention, list_attentions
from ladabench.check import REFERENCE_SIZE

DIM, HEADS, BATCH = 64, 4, 4
TOKENS = (64, 256, 1024)  # 8×8, 16×16, 32×32 grids (square, so every variant builds)


@pytest.fixture(autouse=True)
def _no_grad_state():
    torch.manual_seed(0)
    yield


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
