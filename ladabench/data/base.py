"""Building blocks shared by every data set: the registry, the default data root, resizing,
the seeded ``fraction`` subset and the Dataset wrapper.

Every data set is an :class:`ImageSource` that yields **uint8** ``(3, R, R)`` images; the
training view divides by 127.5 and subtracts 1 (so training images and the real images used for
FID are the same pixels). Resizing happens once, in float, then rounds back to uint8: this
differs from TF's unquantised ``tf.image.resize`` output by at most 0.5/255.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ladabench.config.data import DataConfig
from ladabench.core.errors import ConfigError
from ladabench.core.registry import Registry

#: environment variable naming the data root (default ``~/.cache/ladabench/data``)
DATA_ROOT_ENV = "LADABENCH_DATA"

#: filter name -> (torch interpolate mode, antialias)
_FILTERS = {
    "bilinear": ("bilinear", False),
    "bilinear_antialias": ("bilinear", True),
    "bicubic_antialias": ("bicubic", True),
}


def default_data_root() -> Path:
    """``$LADABENCH_DATA`` if set, else ``~/.cache/ladabench/data`` (the one place this is decided)."""
    env = os.environ.get(DATA_ROOT_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ladabench" / "data"


def resolve_root(root: str | os.PathLike | None) -> Path:
    """``root`` with ``~`` expanded, or :func:`default_data_root` when None."""
    return Path(root).expanduser() if root is not None else default_data_root()


def resize_uint8(x: torch.Tensor, size: int, resize_filter: str = "bilinear") -> torch.Tensor:
    """Resize uint8 images ``x: (B, C, H, W)`` to ``(B, C, size, size)`` uint8.

    "bilinear" is ``F.interpolate(mode="bilinear", align_corners=False, antialias=False)``, which
    equals TF2 ``tf.image.resize`` (half-pixel centres, no antialias), the reference's filter.
    The ``*_antialias`` filters low-pass when downscaling, like PIL. Images already at ``size``
    are returned unchanged. Non-square inputs are stretched (no crop), as in the reference.
    """
    if x.shape[-2:] == (size, size):
        return x
    mode, antialias = _FILTERS[resize_filter]
    y = F.interpolate(x.float(), size=(size, size), mode=mode, align_corners=False, antialias=antialias)
    return y.round_().clamp_(0, 255).to(torch.uint8)


def to_float(img: torch.Tensor) -> torch.Tensor:
    """uint8 ``(..., 3, R, R)`` in 0..255 -> float32 in [-1, 1] (0 -> -1, 255 -> 1)."""
    return img.float().div_(127.5).sub_(1.0)


def subset_size(n: int, fraction: float) -> int:
    """round(fraction * n), halves rounded up, at least 1."""
    return max(1, min(n, math.floor(fraction * n + 0.5)))


def subset_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """Sorted indices of the fixed ``fraction`` subset of ``range(n)``.

    Drawn with numpy's legacy ``RandomState(seed).permutation``, whose stream numpy keeps frozen
    (NEP 19), so the subset is the same on every machine and numpy version.
    """
    if fraction >= 1.0:
        return np.arange(n)
    perm = np.random.RandomState(seed).permutation(n)
    return np.sort(perm[: subset_size(n, fraction)])


@functools.lru_cache(maxsize=64)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes, memoised per process on (path, size, mtime)."""
    st = os.stat(path)
    return _file_sha256(str(path), st.st_size, st.st_mtime_ns)


class ImageSource(ABC):
    """A registered data set at one resolution: ``len(source)`` uint8 ``(3, R, R)`` images.

    Subclasses set ``splits`` (accepted ``data_cfg.split`` values) and must be cheap to
    construct (load lazily) because :func:`dataset_fingerprint` builds one.
    """

    splits: tuple[str, ...] = ("train",)
    #: True when every read decodes a file (the loader then gives it worker processes)
    decodes_on_access: bool = False

    def __init__(self, cfg: DataConfig) -> None:
        if cfg.split not in self.splits:
            raise ConfigError(
                f"data.split: data set {cfg.name!r} has split(s) {', '.join(self.splits)}, got {cfg.split!r}"
            )
        self.cfg = cfg

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def image(self, index: int) -> torch.Tensor:
        """Image ``index`` as uint8 ``(3, R, R)``."""

    @abstractmethod
    def content_id(self) -> str:
        """A machine-independent hash of the underlying files/arrays (not of resolution or fraction)."""

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        """uint8 ``(B, 3, R, R)`` for int64 ``indices: (B,)``; in-memory sources gather at once."""
        return torch.stack([self.image(int(i)) for i in indices])

    def probe(self) -> int:
        """The image count, after reading the first image: a quick check that the data is there
        and readable (the pre-flight of ``train`` and ``run``), without decoding the rest."""
        n = len(self)
        if n:
            self.image(0)
        return n

    def prepare(self) -> None:
        """Make the images fast to read before many are read (a folder decodes into its cache).
        Called by ``build_dataset``/``build_uint8_dataset`` in the main process, before any
        DataLoader worker starts."""


def _check_source(cls: type) -> None:
    if not (isinstance(cls, type) and issubclass(cls, ImageSource)):
        raise TypeError(f"{cls!r} is not an ImageSource subclass")


DATASETS: Registry[type[ImageSource]] = Registry("dataset", check=_check_source)


class ImageDataset(Dataset):
    """The images of ``source`` at ``indices``: float ``(3, R, R)`` in [-1, 1], or uint8 0..255
    ``(3, R, R)`` when ``uint8`` is True (the format torch-fidelity takes).

    uint8 items may be views of a shared in-memory cache: copy before modifying them in place.
    """

    def __init__(self, source: ImageSource, indices: np.ndarray, uint8: bool = False) -> None:
        self.source = source
        self.indices = indices
        self.uint8 = uint8

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> torch.Tensor:
        img = self.source.image(int(self.indices[i]))
        return img if self.uint8 else to_float(img)

    def __getitems__(self, items: list[int]) -> list[torch.Tensor]:
        """Batched fetch used by ``DataLoader`` (one gather instead of B calls for in-memory sets)."""
        batch = self.source.images(torch.from_numpy(self.indices[items]))
        return list((batch if self.uint8 else to_float(batch)).unbind(0))
