"""CIFAR-10 through ``torchvision.datasets.CIFAR10`` (which checks every file's md5).

Files live in ``<root>/cifar-10-batches-py/`` (``data_batch_1..5``, ``test_batch``,
``batches.meta``), root = ``data_cfg.root`` or :func:`default_data_root`. Nothing is downloaded
unless ``data_cfg.download`` is true or :func:`download_cifar10` is called (``ladabench fetch``).
The decoded split is kept in memory as uint8 (50,000 x 3 x 32 x 32 = 150 MB).
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import torch

from ladabench.data.base import DATA_ROOT_ENV, DATASETS, ImageSource, file_sha256, resize_uint8, resolve_root
from ladabench.config.data import DataConfig
from ladabench.core.errors import DataError

FOLDER = "cifar-10-batches-py"
URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SPLIT_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
META_FILE = "batches.meta"
ALL_FILES = SPLIT_FILES["train"] + SPLIT_FILES["test"] + [META_FILE]
_RESIZE_CHUNK = 5_000  # images resized at once (bounds the float copy's memory)


def cifar10_dir(root: str | os.PathLike | None = None) -> Path:
    """``<root>/cifar-10-batches-py`` (root None -> the default data root)."""
    return resolve_root(root) / FOLDER


def missing_files(root: str | os.PathLike | None = None) -> list[str]:
    """The CIFAR-10 files absent from :func:`cifar10_dir` (empty when all are there)."""
    folder = cifar10_dir(root)
    return [name for name in ALL_FILES if not (folder / name).is_file()]


def _not_found_message(root: Path, missing: list[str]) -> str:
    return (
        f"CIFAR-10 not found: {root / FOLDER}/ lacks {', '.join(missing)}; "
        f"fetch it with `ladabench fetch --dataset cifar10` (or set data.download: true), "
        f"or download {URL} and extract it into {root}/ "
        f"(data.root or ${DATA_ROOT_ENV} choose another root)"
    )


def download_cifar10(root: str | os.PathLike | None = None) -> Path:
    """Download and extract CIFAR-10 into ``root`` (no-op when the checked files are there).

    Returns the ``cifar-10-batches-py`` folder; a failed download is a one-line DataError.
    """
    from torchvision.datasets import CIFAR10

    root = resolve_root(root)
    try:
        CIFAR10(str(root), train=True, download=True)
    except (OSError, RuntimeError) as e:
        raise DataError(f"could not download CIFAR-10 from {URL} into {root}/: {e}") from None
    return root / FOLDER


@functools.lru_cache(maxsize=4)
def _load(root: str, split: str, resolution: int, resize_filter: str) -> torch.Tensor:
    """uint8 ``(n, 3, R, R)`` images of one split (torchvision verifies the md5s)."""
    from torchvision.datasets import CIFAR10

    try:
        data = CIFAR10(root, train=split == "train", download=False).data  # (n, 32, 32, 3)
    except RuntimeError:
        raise DataError(
            f"CIFAR-10 files in {Path(root) / FOLDER}/ are corrupted (md5 differs from torchvision's); "
            f"delete the folder and fetch again with `ladabench fetch --dataset cifar10`"
        ) from None
    x = torch.from_numpy(data).permute(0, 3, 1, 2).contiguous()
    chunks = [resize_uint8(c, resolution, resize_filter) for c in x.split(_RESIZE_CHUNK)]
    return torch.cat(chunks)


@DATASETS.register("cifar10")
class Cifar10(ImageSource):
    """CIFAR-10 train (50,000) or test (10,000) images."""

    splits = ("train", "test")

    def __init__(self, cfg: DataConfig) -> None:
        super().__init__(cfg)
        self.root = resolve_root(cfg.root)
        if cfg.download:
            download_cifar10(self.root)
        missing = missing_files(self.root)
        if missing:
            raise DataError(_not_found_message(self.root, missing))

    @functools.cached_property
    def array(self) -> torch.Tensor:
        """uint8 ``(n, 3, R, R)``: the whole split, decoded once per process."""
        return _load(str(self.root), self.cfg.split, self.cfg.resolution, self.cfg.resize_filter)

    def __len__(self) -> int:
        return len(self.array)

    def image(self, index: int) -> torch.Tensor:
        return self.array[index]

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        return self.array.index_select(0, indices)

    def content_id(self) -> str:
        """sha256 over the split's batch files' sha256 (the bytes, not paths or dates)."""
        h = hashlib.sha256(b"cifar10")
        for name in SPLIT_FILES[self.cfg.split]:
            h.update(f"{name}:{file_sha256(self.root / FOLDER / name)}".encode())
        return h.hexdigest()
