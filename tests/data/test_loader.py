"""ladabench/data/loader.py: uint8 batches in sampler order whatever the workers, normalised
after the copy to exactly the float data set's values; pinned memory only for CUDA; default
workers per device."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.config import DataConfig
from ladabench.data import build_dataset
from ladabench.data import loader
from ladabench.data.loader import default_workers, device_batches, image_loader, to_device

CPU = torch.device("cpu")


class Batches(torch.utils.data.Sampler):
    """Fixed batches of indices (a stand-in for the training's seeded sampler)."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.RandomState(1)
    for i in range(30):
        Image.fromarray(rng.randint(0, 256, (12, 12, 3), np.uint8)).save(tmp_path / f"{i:02d}.png")
    return DataConfig(name="folder", root=str(tmp_path), resolution=8, fraction=0.8)


@pytest.mark.parametrize("cache, workers", [(True, 0), (True, 2), (False, 2)])
def test_batches_equal_the_float_data_set_in_sampler_order(folder, cache, workers):
    ds = build_dataset(folder.model_copy(update={"cache": cache}))
    order = [[5, 0, 17], [3, 3, 9], [23, 1, 2], [8, 4, 11]]
    ld = image_loader(ds, Batches(order), CPU, workers=workers, seed=0)
    assert ld.num_workers == workers and not ld.pin_memory
    got = list(device_batches(ld, CPU, torch.channels_last))
    assert len(got) == len(order)
    for batch, idx in zip(got, order):
        assert batch.dtype == torch.float32 and batch.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(batch, torch.stack([ds[i] for i in idx]))


def test_the_loader_moves_uint8_and_converts_after_the_copy(folder):
    ds = build_dataset(folder)
    raw = next(iter(image_loader(ds, Batches([[0, 1]]), CPU)))
    assert raw.dtype == torch.uint8  # a quarter of the bytes cross to the device
    float_items = torch.utils.data.TensorDataset(torch.full((4, 3, 2, 2), 0.25))
    (batch,) = next(iter(image_loader(float_items, Batches([[0, 1]]), CPU)))
    assert torch.equal(to_device(batch, CPU), torch.full((2, 3, 2, 2), 0.25))  # floats only move


def test_pinned_memory_and_default_workers_follow_the_device_and_the_reads(folder, monkeypatch):
    cached = build_dataset(folder)
    decoding = build_dataset(folder.model_copy(update={"cache": False}))
    gpu = torch.device("cuda")
    monkeypatch.setattr(loader, "available_cores", lambda: 16)
    assert default_workers(CPU, cached) == default_workers(CPU, decoding) == 0
    assert default_workers(gpu, cached) == 0  # the cache is cheaper to read in the main process
    assert default_workers(gpu, torch.utils.data.TensorDataset(torch.zeros(2))) == 0
    assert default_workers(gpu, decoding) == 4
    monkeypatch.setattr(loader, "available_cores", lambda: 2)
    assert default_workers(torch.device("cuda:1"), decoding) == 1
    monkeypatch.setattr(loader, "available_cores", lambda: 1)
    assert default_workers(gpu, decoding) == 0
    monkeypatch.setattr(loader, "available_cores", lambda: 3)
    on_gpu = image_loader(decoding, Batches([[0]]), gpu)  # built, not iterated (no GPU here)
    assert on_gpu.pin_memory and on_gpu.num_workers == 2
    assert image_loader(cached, Batches([[0]]), gpu, workers=2).num_workers == 2
    assert not image_loader(cached, Batches([[0]]), CPU).pin_memory


def test_a_pickled_folder_reopens_its_cache_instead_of_carrying_it(folder):
    source = build_dataset(folder).source
    assert source.pixels().nbytes == 30 * 3 * 8 * 8
    clone = pickle.loads(pickle.dumps(source))  # what a spawned worker receives
    assert clone._pixels is None
    assert torch.equal(clone.image(7), source.image(7))
