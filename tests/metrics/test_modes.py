"""Stacked-MNIST mode counting on constructed images, and the ``modes`` metric."""
from __future__ import annotations

import math

import pytest
import torch

from ladabench.data.build import build_uint8_dataset
from ladabench.data.digits import load_mnist5k
from ladabench.core.errors import ConfigError
from ladabench.metrics import evaluate
from ladabench.metrics.digits_cnn import classify, load_digits_net
from ladabench.metrics.modes import count_modes, mode_labels, mode_statistics


@pytest.fixture(scope="module")
def net(digits_weights):
    return load_digits_net(digits_weights)[0]


@pytest.fixture(scope="module")
def exemplars(net):
    """Per digit, 5 held-out images (uint8 (32, 32)) the classifier labels correctly, so the
    constructed sets test the counting, not the classifier's 2 % errors."""
    images, labels = load_mnist5k("test")
    planes = torch.nn.functional.pad(images, (2, 2, 2, 2))
    ok = classify(planes[:, None].expand(-1, 3, -1, -1), net) == labels
    return [planes[ok & (labels == d)][:5] for d in range(10)]


def stack(exemplars, triples: list[tuple[int, int, int]], pick: int = 0) -> torch.Tensor:
    """uint8 (n, 3, 32, 32): digit triples[i][c] in channel c."""
    return torch.stack([torch.stack([exemplars[d][pick] for d in t]) for t in triples])


def test_statistics_exact():
    assert mode_statistics(torch.arange(1000)) == (1000, pytest.approx(0.0, abs=1e-12))
    covered, kl = mode_statistics(torch.tensor([0, 111, 222, 333, 444, 555, 666, 777, 888, 999] * 7))
    assert covered == 10 and kl == pytest.approx(math.log(100), rel=1e-12)
    # 3/4 of the mass on mode 5, 1/4 on mode 7: Σ p log(1000 p)
    covered, kl = mode_statistics(torch.tensor([5, 5, 5, 7]))
    assert covered == 2 and kl == pytest.approx(0.75 * math.log(750) + 0.25 * math.log(250), rel=1e-12)


def test_all_1000_modes_counted(exemplars, net):
    triples = [(a, b, c) for a in range(10) for b in range(10) for c in range(10)]
    images = stack(exemplars, triples)
    assert mode_labels(images, net).tolist() == [100 * a + 10 * b + c for a, b, c in triples]
    covered, kl = count_modes(images, net)
    assert covered == 1000 and kl == pytest.approx(0.0, abs=1e-9)


def test_ten_modes_counted(exemplars, net):
    images = torch.cat([stack(exemplars, [(d, (d + 3) % 10, (d * 7) % 10) for d in range(10)], p) for p in range(5)])
    covered, kl = count_modes(images, net)
    assert covered == 10 and kl == pytest.approx(math.log(100), rel=1e-9)


def test_rejects_float_images(net):
    with pytest.raises(ValueError, match="expected uint8"):
        count_modes(torch.zeros(2, 3, 32, 32), net)


def test_agrees_with_the_dataset_mode_labels(net, make_cfg):
    cfg = make_cfg(data={"name": "stacked_digits", "split": "test"}).data
    ds = build_uint8_dataset(cfg)
    images = torch.stack([ds[i] for i in range(1000)])
    truth = ds.source.mode_labels()[:1000]
    agree = (mode_labels(images, net) == truth).float().mean().item()
    assert agree >= 0.9  # ≈ accuracy³ for three independent channels


def test_modes_metric_via_evaluate(metrics_cache, make_cfg, generators, exemplars):
    replay = generators[0](stack(exemplars, [(d, d, 9 - d) for d in range(10)]))
    cfg = make_cfg(data={"name": "stacked_digits"}, metrics=["modes"])
    res = evaluate(replay, cfg, n_gen=50, n_real=1, device="cpu")
    assert res["modes"]["value"] == 10.0
    assert res["modes_reverse_kl"]["value"] == pytest.approx(math.log(100), rel=1e-9)
    assert res["modes"]["protocol"]["standard"] is False
    assert res["modes"]["protocol"]["extractor"] == "digits-cnn"


def test_modes_needs_stacked_digits(metrics_cache, make_cfg, generators):
    with pytest.raises(ConfigError, match=r"'modes' needs a data set with Stacked-MNIST modes"):
        evaluate(generators[1](), make_cfg(metrics=["modes"]), n_gen=10, n_real=10, device="cpu")
