"""ladabench/data/base.py: default root, resize filters, fraction subsets, float mapping."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ladabench.data.base import default_data_root, resize_uint8, resolve_root, subset_indices, to_float


def test_default_root_env_and_home(monkeypatch, tmp_path):
    monkeypatch.setenv("LADABENCH_DATA", str(tmp_path / "d"))
    assert default_data_root() == tmp_path / "d"
    assert resolve_root(None) == tmp_path / "d"
    assert resolve_root("~/x") == Path.home() / "x"
    monkeypatch.delenv("LADABENCH_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_root() == tmp_path / ".cache" / "ladabench" / "data"


def test_to_float_endpoints():
    x = torch.tensor([0, 255, 128], dtype=torch.uint8)
    y = to_float(x)
    assert y.dtype == torch.float32
    assert y.tolist() == pytest.approx([-1.0, 1.0, 128 / 127.5 - 1], abs=1e-6)


def test_subset_sizes_and_determinism():
    a = subset_indices(100, 0.1, seed=0)
    assert len(a) == 10 and len(set(a.tolist())) == 10 and a.max() < 100
    assert np.array_equal(a, subset_indices(100, 0.1, seed=0))
    assert not np.array_equal(a, subset_indices(100, 0.1, seed=1))
    assert np.array_equal(a, np.sort(np.random.RandomState(0).permutation(100)[:10]))  # numpy's frozen stream
    assert len(subset_indices(5, 0.1, 0)) == 1  # round(0.5) rounds up, never empty
    assert len(subset_indices(7, 0.5, 0)) == 4
    assert np.array_equal(subset_indices(7, 1.0, 3), np.arange(7))


def test_bilinear_halving_is_2x2_average():
    # half-pixel bilinear (TF tf.image.resize) at exactly 1/2 samples the midpoint of each 2x2 block
    x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    y = resize_uint8(x, 4, "bilinear")
    expected = F.avg_pool2d(x.double(), 2).round().to(torch.uint8)
    assert y.dtype == torch.uint8 and y.shape == (2, 3, 4, 4)
    assert (y.int() - expected.int()).abs().max() <= 1  # ties may round either way in float32


def test_bilinear_has_no_antialias_but_antialias_filter_does():
    # 1-pixel checkerboard, 12 -> 4: half-pixel centres land exactly on source pixels 1, 4, 7, 10,
    # so TF-style bilinear without antialias just picks them; the antialias filter averages
    x = ((torch.arange(12)[:, None] + torch.arange(12)[None]) % 2 * 255).to(torch.uint8)[None, None]
    assert torch.equal(resize_uint8(x, 4, "bilinear"), x[..., 1::3, 1::3])
    smooth = resize_uint8(x, 4, "bilinear_antialias").float()
    assert (smooth - 127.5).abs().max() < 40


def test_bicubic_antialias_matches_pil():
    rng = np.random.RandomState(0)
    img = rng.randint(0, 256, (40, 40, 3), dtype=np.uint8)
    ours = resize_uint8(torch.from_numpy(img).permute(2, 0, 1)[None], 16, "bicubic_antialias")[0]
    pil = np.array(Image.fromarray(img).resize((16, 16), Image.BICUBIC))
    diff = (ours.permute(1, 2, 0).int() - torch.from_numpy(pil).int()).abs()
    assert diff.max() <= 2 and diff.float().mean() < 0.5


def test_same_size_is_unchanged():
    x = torch.randint(0, 256, (1, 3, 8, 8), dtype=torch.uint8)
    assert resize_uint8(x, 8) is x
