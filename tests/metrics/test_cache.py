"""Real-statistics cache keys: content hashes of everything that changes the statistics."""
from __future__ import annotations

import hashlib
import os
import shutil

import pytest
import torch

from ladabench.metrics.cache import CACHE_ENV, cache_dir, content_key, real_stats_cache_name
from ladabench.metrics.evaluation import EvalContext

BASE = dict(
    dataset="digits", dataset_fingerprint="f" * 64, split="train", resolution=32, n_real=2500,
    extractor="inception-v3-compat", weights_sha256="a" * 64, feature_layer="2048", sample_seed=0,
    device_type="cpu", precision="fp32-strict",
)


def test_content_key_is_sha256_of_canonical_json():
    assert content_key({"b": 1, "a": "x"}) == hashlib.sha256(b'{"a":"x","b":1}').hexdigest()


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir() == cache_dir().home() / ".cache" / "ladabench"


@pytest.mark.parametrize(
    "field, value",
    [("dataset_fingerprint", "e" * 64), ("split", "test"), ("resolution", 64), ("n_real", 2501),
     ("extractor", "digits-cnn"), ("weights_sha256", "b" * 64), ("feature_layer", "768"), ("sample_seed", 1),
     ("device_type", "cuda"), ("precision", "tf32")],
)
def test_every_field_changes_the_key(field, value):
    assert real_stats_cache_name(**BASE) != real_stats_cache_name(**{**BASE, field: value})


def test_key_is_stable_and_readable():
    name = real_stats_cache_name(**BASE)
    assert name == real_stats_cache_name(**dict(BASE))
    assert name.startswith("ladabench-digits-train-32px-2500-") and len(name.split("-")[-1]) == 20


def _key(make_cfg, weights) -> str:
    cfg = make_cfg(extractor="inception-v3-compat", inception_weights=str(weights))
    return EvalContext(None, cfg, 10, 100, "cpu", ["fid"]).real.cache_name


def test_changing_the_weights_file_changes_the_key(make_cfg, tmp_path):
    weights = tmp_path / "inception.pth"
    torch.save({"w": torch.ones(2)}, weights)
    first = _key(make_cfg, weights)
    copy = tmp_path / "elsewhere.pth"
    shutil.copy(weights, copy)
    assert _key(make_cfg, copy) == first  # the content decides, not the path
    torch.save({"w": torch.zeros(2)}, weights)
    os.utime(weights, ns=(1, 1))  # a new mtime even on coarse clocks (hashes are memoised on it)
    assert _key(make_cfg, weights) != first
