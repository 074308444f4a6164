"""The data API the rest of ladabench calls: datasets, fingerprints and real images for FID."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import torch

from ladabench.data.base import DATASETS, ImageDataset, ImageSource, subset_indices
from ladabench.config.data import DataConfig
from ladabench.data.digits import StackedDigits
from ladabench.core.errors import ConfigError, DataError


def build_source(data_cfg: DataConfig) -> ImageSource:
    """The registered data set ``data_cfg.name`` (all its images, before ``fraction``)."""
    return DATASETS.get(data_cfg.name)(data_cfg)


def _dataset(data_cfg: DataConfig, uint8: bool) -> ImageDataset:
    source = build_source(data_cfg)
    source.prepare()
    return ImageDataset(source, subset_indices(len(source), data_cfg.fraction, data_cfg.subset_seed), uint8)


def build_dataset(data_cfg: DataConfig) -> ImageDataset:
    """Training images: float32 ``(3, R, R)`` in [-1, 1], restricted to the ``fraction`` subset.

    The subset (``round(fraction * n)`` items drawn with ``subset_seed``) is the same every time
    and on every machine; ``dataset.indices`` lists the chosen items of the full data set.
    """
    return _dataset(data_cfg, uint8=False)


def build_uint8_dataset(data_cfg: DataConfig) -> ImageDataset:
    """The same images (same subset, same order) as uint8 ``(3, R, R)`` 0..255: the input
    format of torch-fidelity (``input2=build_uint8_dataset(cfg)``)."""
    return _dataset(data_cfg, uint8=True)


def real_images_uint8(data_cfg: DataConfig, n: int | None = None, seed: int = 0) -> torch.Tensor:
    """``n`` real images as one uint8 tensor ``(n, 3, R, R)`` (FID/KID reference sets).

    Drawn without replacement from :func:`build_uint8_dataset` with ``RandomState(seed)``,
    kept in data set order; ``n`` None takes all. ``n`` larger than the data set is a DataError
    (never silently fewer images).
    """
    ds = build_uint8_dataset(data_cfg)
    total = len(ds)
    if n is None:
        picks = np.arange(total)
    elif not 0 < n <= total:
        raise DataError(
            f"data set {data_cfg.name!r} (split {data_cfg.split}, fraction {data_cfg.fraction}) "
            f"has {total} images; asked for {n}"
        )
    else:
        picks = np.sort(np.random.RandomState(seed).choice(total, n, replace=False))
    return ds.source.images(torch.from_numpy(ds.indices[picks])).contiguous()


def dataset_fingerprint(data_cfg: DataConfig, source: ImageSource | None = None) -> str:
    """sha256 (hex) identifying the exact pixels :func:`build_dataset` yields.

    Hashes the source's content id (array bytes for digits, file bytes for CIFAR-10, the sorted
    relative paths and sizes for folders) with resolution, resize filter and the subset (fraction,
    and the seed only when fraction < 1). Independent of paths, dates and the alias name, so the
    same data gives the same key on every machine (the real-statistics cache key). ``source``:
    the data set already built for ``data_cfg`` (a folder is then not listed again).
    """
    source = source if source is not None else build_source(data_cfg)
    key = {
        "content": source.content_id(),
        "resolution": data_cfg.resolution,
        "resize_filter": data_cfg.resize_filter,
        "fraction": data_cfg.fraction,
        "subset_seed": data_cfg.subset_seed if data_cfg.fraction < 1.0 else None,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()


def stacked_mode_labels(data_cfg: DataConfig) -> torch.Tensor:
    """int64 ``(len(build_dataset(data_cfg)),)``: the Stacked-MNIST mode (0..999) of every item,
    ``100 * d_R + 10 * d_G + d_B``, in data set order (after ``fraction``)."""
    source = build_source(data_cfg)
    if not isinstance(source, StackedDigits):
        raise ConfigError(f"data.name: mode labels exist for 'stacked_digits' only, got {data_cfg.name!r}")
    labels = source.mode_labels()
    return labels[torch.from_numpy(subset_indices(len(labels), data_cfg.fraction, data_cfg.subset_seed))]


def list_datasets() -> list[str]:
    return DATASETS.names()
