"""The offline ``digits-cnn`` extractor: shipped weights (pinned sha256, read-only load path),
accuracy, torch-fidelity integration, and features that do not depend on the CPU's kernels."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch_fidelity
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

import ladabench
from ladabench.data.base import file_sha256
from ladabench.core.errors import DataError
from ladabench.metrics import digits_cnn, digits_cnn_train
from ladabench.metrics.fidelity_adapters import DigitsFeatureExtractor
from ladabench.metrics.cache import CACHE_ENV

HERE = Path(__file__).parent


def test_shipped_weights_match_the_pinned_sha256_and_ship_as_package_data():
    assert digits_cnn.WEIGHTS_FILE.parent == Path(ladabench.__file__).parent / "metrics" / "weights"
    assert file_sha256(digits_cnn.WEIGHTS_FILE) == digits_cnn.WEIGHTS_SHA256
    assert digits_cnn.weights_path() == digits_cnn.WEIGHTS_FILE
    assert digits_cnn.WEIGHTS_FILE.stat().st_size < 400_000  # small enough for package data
    pyproject = (Path(ladabench.__file__).parents[1] / "pyproject.toml").read_text()
    assert '"metrics/weights/*.npz"' in pyproject


def test_shipped_classifier_reaches_97_percent_held_out_as_recorded():
    net, meta = digits_cnn.load_digits_net()
    acc = digits_cnn.held_out_accuracy(net)
    assert acc >= digits_cnn.MIN_TEST_ACCURACY
    assert acc == pytest.approx(meta["test_accuracy"], abs=1e-6)  # same file, same number
    assert meta["recipe"] == digits_cnn_train.RECIPE


def test_loading_reads_the_shipped_file_only(tmp_path, monkeypatch):
    """Read-only load path: nothing is written (no cache, no retraining), and a read-only copy
    of the file loads the same network."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(digits_cnn_train, "train_digits_net", lambda *a: pytest.fail("retrained"))
    shipped = digits_cnn.WEIGHTS_FILE
    copy = tmp_path / "ro" / "digits_cnn.npz"
    copy.parent.mkdir()
    shutil.copy2(digits_cnn.WEIGHTS_FILE, copy)
    copy.chmod(0o444)
    copy.parent.chmod(0o555)
    try:
        monkeypatch.setattr(digits_cnn, "WEIGHTS_FILE", copy)
        net, _ = digits_cnn.load_digits_net()
    finally:
        copy.parent.chmod(0o755)
    assert not (tmp_path / "cache").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["digits_cnn.npz", "ro"]
    reference, _ = digits_cnn.load_digits_net(shipped)
    for (name, a), b in zip(net.state_dict().items(), reference.state_dict().values()):
        assert torch.equal(a, b), name


def test_changed_shipped_weights_are_refused_with_the_fix(tmp_path, monkeypatch):
    bad = tmp_path / "digits_cnn.npz"
    shutil.copy2(digits_cnn.WEIGHTS_FILE, bad)
    with open(bad, "ab") as f:
        f.write(b"\0")
    monkeypatch.setattr(digits_cnn, "WEIGHTS_FILE", bad)
    with pytest.raises(DataError, match=r"!= pinned a66fd5.*git checkout -- ladabench/metrics/weights"):
        digits_cnn.load_digits_net()
    monkeypatch.setattr(digits_cnn, "WEIGHTS_FILE", tmp_path / "missing.npz")
    with pytest.raises(DataError, match="missing from the installed package"):
        digits_cnn.weights_path()


def test_a_file_that_is_not_a_weights_file_is_a_data_error(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(DataError, match=r"junk\.npz: not a digits-cnn weights file"):
        digits_cnn.load_digits_net(junk)


def test_registered_extractor_returns_penultimate_features(digits_weights):
    assert FEATURE_EXTRACTORS_REGISTRY["digits-cnn"] is DigitsFeatureExtractor
    ext = DigitsFeatureExtractor("digits-cnn", ["128", "logits"], str(digits_weights))
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


def test_written_weights_are_byte_stable_and_round_trip(tmp_path):
    net, _ = digits_cnn.load_digits_net()
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    acc = digits_cnn_train.write_weights(net, a)
    digits_cnn_train.write_weights(net, b)
    assert a.read_bytes() == b.read_bytes()  # no timestamps in the archive
    assert file_sha256(a) == digits_cnn.WEIGHTS_SHA256  # float16 → float16 is exact
    assert acc == pytest.approx(digits_cnn.load_digits_net(a)[1]["test_accuracy"])


# ---- the same features on every CPU ----------------------------------------------------

#: kernel sets to compare: this machine's default, ATen's AVX2 kernels, and the oldest kernels
#: of every library (ATen without SIMD, oneDNN convolutions on SSE4.1, MKL GEMM on SSE4.2) as a
#: stand-in for a CPU unlike this one; threads change how work is split
KERNEL_SETS = {
    "default-1thread": {"threads": "1"},
    "default-2threads": {"threads": "2"},
    "aten-avx2": {"threads": "1", "ATEN_CPU_CAPABILITY": "avx2"},
    "oldest": {"threads": "1", "ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
               "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}


@pytest.fixture(scope="module")
def features_by_kernel_set(tmp_path_factory):
    """Features of the same 600 images (held-out digits and noise) from one fresh process per
    kernel set (the capability is read when torch starts, hence subprocesses)."""
    out = tmp_path_factory.mktemp("kernels")
    feats = {}
    for name, setting in KERNEL_SETS.items():
        env = {k: v for k, v in os.environ.items()
               if k not in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")}
        env |= {k: v for k, v in setting.items() if k != "threads"}
        env["OMP_NUM_THREADS"] = setting["threads"]
        done = subprocess.run([sys.executable, str(HERE / "digits_features.py"), str(out / name)],
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        feats[name] = (np.load(out / f"{name}.npy"), json.loads(done.stdout))
    return feats


def test_kernel_sets_really_differ(features_by_kernel_set):
    caps = {name: info["capability"] for name, (_, info) in features_by_kernel_set.items()}
    assert caps["oldest"] == "DEFAULT" and caps["aten-avx2"] == "AVX2"


def test_features_agree_across_cpu_kernel_sets(features_by_kernel_set):
    ref, _ = features_by_kernel_set["default-1thread"]
    scale = np.abs(ref).max()
    for name, (f, _) in features_by_kernel_set.items():
        assert f.shape == ref.shape == (600, 128)
        assert np.abs(f - ref).max() <= 1e-5 * scale, name


def test_fid_and_kid_agree_across_cpu_kernel_sets(features_by_kernel_set):
    """FID/KID of 300 digits vs 300 noise images, from each kernel set's features, with
    torch-fidelity's own statistics functions."""
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric

    def metrics(f):
        a, b = torch.from_numpy(f[:300]), torch.from_numpy(f[300:])
        fid = fid_statistics_to_metric(fid_features_to_statistics(a), fid_features_to_statistics(b),
                                       verbose=False)[torch_fidelity.KEY_METRIC_FID]
        kid = kid_features_to_metric(a, b, kid_subsets=10, kid_subset_size=100, verbose=False,
                                     rng_seed=0)[torch_fidelity.KEY_METRIC_KID_MEAN]
        return fid, kid

    ref = metrics(features_by_kernel_set["default-1thread"][0])
    assert ref[0] > 100  # digits vs noise: far apart, so agreement is not trivial
    for name, (f, _) in features_by_kernel_set.items():
        fid, kid = metrics(f)
        assert fid == pytest.approx(ref[0], rel=1e-6), name
        assert kid == pytest.approx(ref[1], rel=1e-5), name


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_accuracy(tmp_path):
    """The audit command (≈1 min): a fresh training run reaches the shipped accuracy."""
    lines = []
    assert digits_cnn_train.audit(tmp_path / "retrained.npz", log=lines.append) == 0, lines
    assert lines[-1].startswith("reproduced")
    _, meta = digits_cnn.load_digits_net(tmp_path / "retrained.npz")
    assert meta["test_accuracy"] >= digits_cnn.MIN_TEST_ACCURACY
