"""FID/KID through torch-fidelity: self-distance, equality with an independent numpy
implementation, the uint8 conversion and the real-statistics cache on disk.

One module fixture runs the two evaluations (KID's 100 subsets dominate the time)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_fidelity

from ladabench.metrics import evaluate
from ladabench.metrics.digits_cnn import load_digits_net, to_grey
from ladabench.metrics.extractors import get_extractor
from ladabench.metrics.fidelity import (
    KID_SUBSETS, NOISE_SEED, fidelity_kwargs, real_set, to_uint8,
)

N_REAL = 2000


def numpy_fid(f1: np.ndarray, f2: np.ndarray) -> float:
    """The FID formula of docs/paper.md §10.4, in numpy."""
    f1, f2 = f1.astype(np.float64), f2.astype(np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    eig = np.linalg.eigvals(s1 @ s2).astype(np.complex128)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(eig).real.sum())


def numpy_kid(f1: np.ndarray, f2: np.ndarray, subsets: int = 100, seed: int = 2020) -> tuple[float, float]:
    """Mean/std over subsets of the unbiased MMD² with kernel (x·y/dim + 1)³ (kernels computed
    once on all features, subsets indexed out of them)."""
    f1, f2 = f1.astype(np.float64), f2.astype(np.float64)
    m = min(1000, len(f1), len(f2))
    k11, k22, k12 = ((a @ b.T / a.shape[1] + 1) ** 3 for a, b in ((f1, f1), (f2, f2), (f1, f2)))
    rng = np.random.RandomState(seed)
    vals = []
    for _ in range(subsets):
        i = rng.choice(len(f1), m, replace=False)
        j = rng.choice(len(f2), m, replace=False)
        kxx, kyy, kxy = k11[np.ix_(i, i)], k22[np.ix_(j, j)], k12[np.ix_(i, j)]
        vals.append((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / m**2)
    return float(np.mean(vals)), float(np.std(vals))


@pytest.fixture(scope="module")
def results(module_cache, make_cfg, generators):
    ReplayGenerator, LinearGenerator = generators
    cfg = make_cfg()
    real = torch.stack(list(real_set(cfg.data, N_REAL, get_extractor("digits-cnn"), "unused", "cpu").images))
    same = evaluate(ReplayGenerator(real), cfg, n_gen=N_REAL, n_real=N_REAL, device="cpu")
    gen = LinearGenerator(seed=1)
    other = evaluate(gen, cfg, n_gen=1000, n_real=N_REAL, device="cpu")
    return {"cfg": cfg, "real": real, "same": same, "other": other, "gen": gen, "cache": module_cache}


def test_to_uint8_clips_and_truncates_like_the_reference():
    x = torch.tensor([-1.5, -1.0, 0.0, 0.999, 1.0, 2.0])
    assert to_uint8(x).tolist() == [0, 0, 127, 254, 255, 255]


def test_set_against_itself_is_zero(results):
    """The generator replays exactly the 2,000 real digits of the reference set.

    KID subsets (1,000 of 2,000 on each side) are drawn independently, so KID is an unbiased
    estimate of 0: within 4 standard deviations, and tiny next to a real difference.
    """
    same, other = results["same"], results["other"]
    assert abs(same["fid"]["value"]) < 1e-6 * other["fid"]["value"]
    assert abs(same["kid"]["value"]) < 4 * same["kid"]["std"]
    assert abs(same["kid"]["value"]) < 1e-2 * other["kid"]["value"]


def test_real_statistics_cached_under_the_content_key(results):
    files = sorted(p.name for p in (results["cache"] / "fidelity").iterdir())
    assert len(files) == 2  # features + FID statistics, written once and reused by `other`
    assert all(f.startswith(f"ladabench-digits-train-32px-{N_REAL}-") for f in files)
    assert results["other"]["fid"]["protocol"]["n_real"] == N_REAL


def test_fid_kid_equal_numpy_on_the_same_features(results):
    net, _ = load_digits_net()
    z = torch.from_numpy(np.random.RandomState(NOISE_SEED).randn(1000, 16)).float()
    with torch.no_grad():
        fake = net(to_grey(to_uint8(results["gen"](z))))[0].numpy()
        real = net(to_grey(results["real"]))[0].numpy()
    kid_mean, kid_std = numpy_kid(fake, real)
    other = results["other"]
    assert other["fid"]["value"] == pytest.approx(numpy_fid(fake, real), rel=1e-3)
    assert other["kid"]["value"] == pytest.approx(kid_mean, rel=1e-3)
    assert other["kid"]["std"] == pytest.approx(kid_std, rel=1e-3)
    assert other["fid"]["value"] > 1.0  # a random map is far from digits: equality is not trivial


def test_a_folder_real_set_lists_the_folder_once_and_reads_the_decoded_cache(tmp_path, monkeypatch):
    from PIL import Image

    import ladabench.data.folder as folder
    from ladabench.config import DataConfig
    from ladabench.core.cache import CACHE_ENV
    from ladabench.data import build_uint8_dataset

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    rng = np.random.RandomState(0)
    for i in range(20):
        Image.fromarray(rng.randint(0, 256, (16, 16, 3), np.uint8)).save(tmp_path / f"{i:02d}.png")
    cfg = DataConfig(name="folder", root=str(tmp_path), resolution=8)
    trained_on = build_uint8_dataset(cfg)  # training decoded the folder into the cache
    walks, listing = [], folder.list_images
    monkeypatch.setattr(folder, "list_images", lambda root: walks.append(root) or listing(root))

    def no_decoding(*args, **kwargs):
        raise AssertionError("the real set decoded a file instead of reading the cache")

    monkeypatch.setattr(folder, "decode_image", no_decoding)
    real = real_set(cfg, 12, get_extractor("digits-cnn"), "unused", "cpu")
    assert walks == [tmp_path]  # fingerprint and images from one listing
    assert real.n == 12 and len(real.images) == 12
    for item, i in zip(real.images, real.images.indices):
        assert torch.equal(item, trained_on[i])


def test_kid_of_two_whole_sets_is_one_subset_with_the_value_of_the_hundred():
    """With the subset size equal to both set sizes every subset is the two whole sets in
    another order: one subset is computed, and it gives the 100 subsets' mean."""
    from torch_fidelity.metric_kid import kid_features_to_metric

    kwargs = {"extractor": get_extractor("digits-cnn"), "weights": "unused", "metrics": {"kid"},
              "batch_size": 100, "cuda": False}
    assert fidelity_kwargs(n_gen=300, n_real=300, **kwargs)["kid_subsets"] == 1
    assert fidelity_kwargs(n_gen=300, n_real=2000, **kwargs)["kid_subsets"] == KID_SUBSETS
    assert fidelity_kwargs(n_gen=2000, n_real=2000, **kwargs)["kid_subsets"] == KID_SUBSETS
    rng = np.random.RandomState(0)
    fake, real = rng.rand(300, 128).astype(np.float32), rng.rand(300, 128).astype(np.float32) + 0.5
    mean_100, std_100 = numpy_kid(fake, real)
    one = kid_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real), kid_subsets=1,
                                 kid_subset_size=300, verbose=False, rng_seed=NOISE_SEED)
    assert mean_100 > 0.1  # the sets differ: equality is not trivial
    assert std_100 < 1e-9 * mean_100  # the 100 subsets are one value
    assert one[torch_fidelity.KEY_METRIC_KID_MEAN] == pytest.approx(mean_100, rel=1e-5)
