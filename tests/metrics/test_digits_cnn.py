"""The offline ``digits-cnn`` extractor: accuracy, checked cache, torch-fidelity integration."""
from __future__ import annotations

import shutil

import pytest
import torch
import torch_fidelity
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from ladabench.data.base import file_sha256
from ladabench.core.errors import DataError
from ladabench.metrics import digits_cnn
from ladabench.metrics.cache import CACHE_ENV
from ladabench.core.download import sidecar_path


def test_cached_classifier_reaches_97_percent_held_out(digits_weights):
    net, meta = digits_cnn.load_digits_net(digits_weights)
    acc = digits_cnn.held_out_accuracy(net)
    assert acc >= 0.97
    assert acc == pytest.approx(meta["test_accuracy"], abs=1e-6)  # same file, same number
    assert meta["recipe"] == digits_cnn.RECIPE


def test_file_name_carries_the_recipe_hash_and_sidecar_the_sha256(digits_weights):
    assert digits_weights.name == f"digits_cnn-{digits_cnn.content_key(digits_cnn.RECIPE)[:16]}.pt"
    assert sidecar_path(digits_weights).read_text().split()[0] == file_sha256(digits_weights)


def test_tampered_weights_are_rejected(tmp_path, digits_weights):
    bad = tmp_path / digits_weights.name
    shutil.copy2(digits_weights, bad)
    shutil.copy2(sidecar_path(digits_weights), sidecar_path(bad))
    with open(bad, "ab") as f:
        f.write(b"\0")
    with pytest.raises(DataError, match=r"does not match .*\.sha256 .* delete both files to rebuild"):
        digits_cnn.load_digits_net(bad)


def test_registered_extractor_returns_penultimate_features(digits_weights):
    assert FEATURE_EXTRACTORS_REGISTRY["digits-cnn"] is digits_cnn.DigitsFeatureExtractor
    ext = digits_cnn.DigitsFeatureExtractor("digits-cnn", ["128", "logits"], str(digits_weights))
    x = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    feats, logits = ext(x)
    assert feats.shape == (5, 128) and logits.shape == (5, 10)
    assert torch.allclose(ext.net.head(feats), logits, atol=1e-5)  # features feed the head
    with pytest.raises(ValueError, match="expected uint8"):
        ext(x.float())
    assert isinstance(ext, torch_fidelity.FeatureExtractorBase)


def test_other_resolutions_are_resized(digits_weights):
    from ladabench.data.digits import load_mnist5k

    net, _ = digits_cnn.load_digits_net(digits_weights)
    images, labels = load_mnist5k("test")
    x = torch.nn.functional.pad(images[:200], (2, 2, 2, 2))[:, None].expand(-1, 3, -1, -1)
    up = torch.nn.functional.interpolate(x.float(), size=64, mode="bilinear").round().to(torch.uint8)
    acc = (digits_cnn.classify(up, net) == labels[:200]).float().mean().item()
    assert acc >= 0.95


@pytest.mark.slow
def test_training_from_scratch_is_deterministic(tmp_path, monkeypatch, digits_weights):
    """Rebuilds in an empty cache (≈30-60 s): same recipe → byte-identical weights, ≥ 97 %."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    path = digits_cnn.ensure_weights()
    assert path.parent == tmp_path
    assert file_sha256(path) == file_sha256(digits_weights)
    assert torch.load(path, weights_only=True)["test_accuracy"] >= 0.97


def test_weights_without_checksum_file_are_rejected(tmp_path, digits_weights):
    bare = tmp_path / digits_weights.name
    shutil.copy2(digits_weights, bare)
    with pytest.raises(DataError, match=r"no checksum file digits_cnn-\w+\.pt\.sha256 beside it"):
        digits_cnn.load_digits_net(bare)
