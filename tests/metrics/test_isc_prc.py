"""Inception Score and improved precision/recall in the offline protocol (digit CNN): real
digits against real digits and against noise, generators against image sets."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from ladabench.data.digits import load_mnist5k
from ladabench.metrics import evaluate
from ladabench.metrics.fidelity import ImageTensor


def _digits(split: str) -> torch.Tensor:
    """The digits data set's pixels, uint8 ``(n, 3, 32, 32)`` (grey replicated to RGB)."""
    images = F.pad(load_mnist5k(split)[0], (2, 2, 2, 2))[:, None]
    return images.expand(-1, 3, -1, -1).contiguous()


def _noise(n: int) -> torch.Tensor:
    """Uniform grey noise (RGB noise and Gaussian noise: docs/metrics.md, precision caveat)."""
    gen = torch.Generator().manual_seed(0)
    grey = torch.randint(0, 256, (n, 1, 32, 32), generator=gen, dtype=torch.uint8)
    return grey.expand(-1, 3, -1, -1).contiguous()


@pytest.fixture(scope="module")
def scores(module_cache):
    """IS, precision and recall of 1,000 held-out digits and of 1,000 noise images, each against
    the 4,000 training digits."""
    from .conftest import run_cfg

    cfg = run_cfg(metrics=["isc", "prc"], batch_size=250)
    return {name: evaluate(ImageTensor(images), cfg, n_gen=len(images), n_real=4000, device="cpu")
            for name, images in (("digits", _digits("test")), ("noise", _noise(1000)))}


def test_inception_score_of_real_digits_is_far_above_that_of_noise(scores):
    real, noise = scores["digits"]["is"], scores["noise"]["is"]
    assert real["value"] > 8.5  # 10 balanced classes, confidently classified: close to 10
    assert noise["value"] < 2.0 and real["std"] > 0
    p = real["protocol"]
    assert (p["metric"], p["extractor"], p["feature_layer"], p["standard"]) == (
        "is", "digits-cnn", "logits", False)
    assert p["n_gen"] == 1000 and p["n_real"] is None and p["isc_splits"] == 10


def test_precision_and_recall_are_near_one_for_real_and_near_zero_for_noise(scores):
    real, noise = scores["digits"], scores["noise"]
    assert real["precision"]["value"] > 0.8 and real["recall"]["value"] > 0.8
    assert noise["precision"]["value"] < 0.05 and noise["recall"]["value"] < 0.05
    p = real["recall"]["protocol"]
    assert (p["metric"], p["feature_layer"], p["n_real"], p["prc_neighborhood"]) == (
        "recall", "128", 4000, 3)


def test_a_generator_and_the_images_it_makes_score_the_same(module_cache, make_cfg, generators):
    from ladabench.metrics.evaluation import generate_uint8

    g = generators[1]()
    cfg = make_cfg(metrics=["fid", "isc", "prc"], batch_size=100)
    images = generate_uint8(g, 16, 300, 100, torch.device("cpu"))
    from_g = evaluate(g, cfg, n_gen=300, n_real=300, device="cpu")
    from_images = evaluate(ImageTensor(images), cfg, n_gen=300, n_real=300, device="cpu")
    for name in ("fid", "is", "precision", "recall"):
        assert from_images[name]["value"] == pytest.approx(from_g[name]["value"], rel=1e-9), name


def test_an_image_count_other_than_n_gen_is_refused(make_cfg):
    with pytest.raises(ValueError, match="n_gen=10 but 5 images were given"):
        evaluate(ImageTensor(_noise(5)), make_cfg(metrics=["fid"]), n_gen=10, n_real=10, device="cpu")
