"""ladabench/data/build.py: fraction subsets, fingerprints, uint8 real images, registry names."""
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.config import DataConfig
from ladabench.data import (build_dataset, build_uint8_dataset, dataset_fingerprint, list_datasets,
                            real_images_uint8)
from ladabench.core.errors import DataError, RegistryError


@pytest.fixture
def hundred(tmp_path):
    """A folder of 100 tiny PNGs whose red value is the file number."""
    root = tmp_path / "hundred"
    root.mkdir()
    for i in range(100):
        Image.fromarray(np.full((4, 4, 3), (i, 0, 0), np.uint8)).save(root / f"{i:03d}.png")
    return root


def test_registered_names():
    expected = {"digits", "stacked_digits", "cifar10", "folder", "celeba", "ffhq", "lsun_bedroom"}
    assert expected <= set(list_datasets())
    with pytest.raises(RegistryError, match="unknown dataset 'digit' \\(did you mean 'digits'\\?\\)"):
        build_dataset(DataConfig(name="digit"))


def test_fraction_subset_of_100(hundred):
    cfg = DataConfig(name="folder", root=str(hundred), resolution=4, fraction=0.1, subset_seed=5)
    ds = build_dataset(cfg)
    assert len(ds) == 10
    reds = [round((float(ds[i][0, 0, 0]) + 1) * 127.5) for i in range(10)]
    assert reds == ds.indices.tolist() and reds == sorted(set(reds))  # the files picked, in order
    assert np.array_equal(build_dataset(cfg).indices, ds.indices)
    other = build_dataset(cfg.model_copy(update={"subset_seed": 6}))
    assert not np.array_equal(other.indices, ds.indices)
    assert len(build_dataset(DataConfig(name="digits", fraction=0.25))) == 1000


def test_uint8_view_is_the_same_pixels(hundred):
    cfg = DataConfig(name="folder", root=str(hundred), resolution=4, fraction=0.3)
    f, u = build_dataset(cfg), build_uint8_dataset(cfg)
    assert len(f) == len(u) == 30
    assert u[4].dtype == torch.uint8 and u[4].shape == (3, 4, 4)
    assert torch.equal(u[4].float() / 127.5 - 1, f[4])


def test_real_images_uint8(hundred):
    cfg = DataConfig(name="folder", root=str(hundred), resolution=4)
    x = real_images_uint8(cfg, 20, seed=1)
    assert x.shape == (20, 3, 4, 4) and x.dtype == torch.uint8
    reds = x[:, 0, 0, 0].tolist()
    assert reds == sorted(set(reds))  # distinct files, data set order
    assert torch.equal(x, real_images_uint8(cfg, 20, seed=1))
    assert not torch.equal(x, real_images_uint8(cfg, 20, seed=2))
    assert real_images_uint8(cfg).shape == (100, 3, 4, 4)
    with pytest.raises(DataError, match="has 100 images; asked for 101"):
        real_images_uint8(cfg, 101)


def test_fingerprint_tracks_content_and_settings(hundred, tmp_path):
    cfg = DataConfig(name="folder", root=str(hundred), resolution=4)
    fp = dataset_fingerprint(cfg)
    assert len(fp) == 64 and fp == dataset_fingerprint(cfg)
    # same files elsewhere, new dates, alias name: same data, same key
    copy = tmp_path / "copy"
    shutil.copytree(hundred, copy)
    assert dataset_fingerprint(DataConfig(name="ffhq", root=str(copy), resolution=4)) == fp
    # the seed matters only for a subset
    assert dataset_fingerprint(cfg.model_copy(update={"subset_seed": 9})) == fp
    variants = [
        cfg.model_copy(update={"resolution": 8}),
        cfg.model_copy(update={"fraction": 0.5}),
        cfg.model_copy(update={"fraction": 0.5, "subset_seed": 1}),
        cfg.model_copy(update={"resize_filter": "bilinear_antialias"}),
    ]
    keys = {dataset_fingerprint(v) for v in variants} | {fp}
    assert len(keys) == len(variants) + 1
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(copy / "extra.png")
    assert dataset_fingerprint(DataConfig(name="folder", root=str(copy), resolution=4)) != fp


def test_fingerprint_digits_splits_differ():
    names, splits = ("digits", "stacked_digits"), ("train", "test")
    keys = {dataset_fingerprint(DataConfig(name=n, split=s)) for n in names for s in splits}
    assert len(keys) == 4
    assert dataset_fingerprint(DataConfig()) == dataset_fingerprint(DataConfig(name="digits", split="train"))


@pytest.mark.parametrize("name", ["digits", "stacked_digits", "folder"])
def test_batched_fetch_equals_items(name, hundred):
    cfg = DataConfig(name=name, root=str(hundred) if name == "folder" else None, fraction=0.5)
    for ds in (build_dataset(cfg), build_uint8_dataset(cfg)):
        items = [7, 0, 7, 31]
        batch = ds.__getitems__(items)  # what DataLoader calls
        assert len(batch) == 4
        for got, i in zip(batch, items):
            assert got.dtype == ds[i].dtype and torch.equal(got, ds[i])
    loader = torch.utils.data.DataLoader(build_dataset(cfg), batch_size=8)
    first = next(iter(loader))
    assert first.shape == (8, 3, 32, 32) and torch.equal(first[3], build_dataset(cfg)[3])
