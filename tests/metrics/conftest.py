"""Fixtures for the metrics tests: the shipped digit classifier, a private metrics cache and
small deterministic generators (no network, no Inception)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.metrics import digits_cnn
from ladabench.metrics.cache import CACHE_ENV


@pytest.fixture(scope="session")
def digits_weights():
    """The shipped classifier's weights file (checked against its pinned sha256)."""
    return digits_cnn.weights_path()


def _private_cache(root):
    cache = root / "cache"
    cache.mkdir()
    return cache


@pytest.fixture
def metrics_cache(tmp_path, monkeypatch):
    """A fresh, empty ``$LADABENCH_CACHE``."""
    cache = _private_cache(tmp_path)
    monkeypatch.setenv(CACHE_ENV, str(cache))
    return cache


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """Like ``metrics_cache``, shared by the tests of one module (expensive evaluations)."""
    cache = _private_cache(tmp_path_factory.mktemp("metrics"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(cache))
        yield cache


def run_cfg(**eval_overrides) -> RunConfig:
    data = eval_overrides.pop("data", {"name": "digits"})
    return RunConfig.model_validate(
        {"data": data, "train": {"noise_dim": 16}, "eval": {"extractor": "digits-cnn", **eval_overrides}}
    )


class ReplayGenerator(nn.Module):
    """Yields the given uint8 images ``(n, 3, R, R)`` in order (cycling), as floats that the
    reference's truncating uint8 conversion maps back to exactly the same pixels."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("images", images)
        self.dummy = nn.Parameter(torch.zeros(1))
        self.next = 0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        idx = (torch.arange(len(z)) + self.next) % len(self.images)
        self.next += len(z)
        return (self.images[idx].float() + 0.5) / 127.5 - 1


class LinearGenerator(nn.Module):
    """A fixed random map z (B, 16) → (B, 3, 32, 32) in (-1, 1)."""

    def __init__(self, seed: int = 0, noise_dim: int = 16) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(3 * 32 * 32, noise_dim, generator=gen) * 0.5)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z @ self.weight.T).view(-1, 3, 32, 32)


@pytest.fixture(scope="session")
def make_cfg():
    return run_cfg


@pytest.fixture(scope="session")
def generators():
    """(ReplayGenerator, LinearGenerator) classes (conftest modules are not importable here)."""
    return ReplayGenerator, LinearGenerator
