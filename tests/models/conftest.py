"""Shared fixtures for the model tests.

Building a LadaGAN model runs ~60 QR decompositions (orthogonal init of 1024×1024 and
65536×128 kernels): seconds per model on a 2-core CPU. Tests of shapes, parameter counts, MACs
and capability errors do not depend on the weights, so they build on the meta device
(``meta_build``) or with a Gaussian stand-in for ``torch.nn.init.orthogonal_``
(``fast_model``, cached per config). The init itself is tested on real builds.
"""
import math

import pytest
import torch

from ladabench.models import build_discriminator, build_generator
from ladabench.config.model import ModelConfig

BUILDERS = {"G": build_generator, "D": build_discriminator}


def _gaussian_(tensor, gain=1.0, generator=None):
    with torch.no_grad():
        return tensor.normal_(0.0, gain / math.sqrt(max(tensor[0].numel(), 1)))


@pytest.fixture(scope="session")
def meta_build():
    """meta_build("G" | "D", **model_cfg): built on the meta device, for parameter counts."""

    def build(kind: str, **cfg):
        with torch.device("meta"):
            return BUILDERS[kind](ModelConfig(**cfg))

    return build


@pytest.fixture(scope="session")
def fast_model():
    """fast_model("G" | "D", **model_cfg): a real model with Gaussian instead of orthogonal
    init, cached per config (do not modify it)."""
    cache: dict = {}

    def build(kind: str, **cfg):
        key = (kind, repr(sorted(cfg.items())))
        if key not in cache:
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(torch.nn.init, "orthogonal_", _gaussian_)
                torch.manual_seed(0)
                cache[key] = BUILDERS[kind](ModelConfig(**cfg)).eval()
        return cache[key]

    return build


def bn_stats(module) -> int:
    return sum(b.numel() for n, b in module.named_buffers()
               if n.endswith(("running_mean", "running_var")))


@pytest.fixture(scope="session")
def count_bn_stats():
    return bn_stats
