"""Image folders (CelebA, FFHQ, LSUN Bedroom exported to files): ``folder`` and its aliases.

Every ``.png``/``.jpg``/``.jpeg`` (any case) under ``root``, recursively, in sorted relative-path
order; other files are ignored. Each image is decoded lazily with PIL, converted to RGB and
resized to R x R with ``data_cfg.resize_filter`` (default "bilinear" = TF ``tf.image.resize``,
the reference's filter; no crop, no flip: a non-square image is stretched, as in the reference).

``folder`` needs ``data.root``. The aliases ``celeba``, ``ffhq`` and ``lsun_bedroom`` are the same
loader whose root defaults to ``<default data root>/<name>`` (e.g. ``~/.cache/ladabench/data/ffhq``).

With ``data.cache`` (default) the folder is decoded once, in parallel, into a memory-mapped uint8
cache at R x R (``ladabench.data.decoded``) and every later read is a copy out of it: the same
pixels, bit for bit, as decoding on access (``data.cache: false``). The cache is keyed by the
sorted (relative path, size, modification time) of the files, R, the filter and the Pillow and
torch versions that decode and resize: editing, adding or removing a file makes a new entry.
"""
from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import PIL
import torch
from PIL import Image, UnidentifiedImageError

from ladabench.core.cache import content_key
from ladabench.data.base import DATASETS, ImageSource, default_data_root, resize_uint8
from ladabench.data.decoded import decoded_dir, open_decoded
from ladabench.config.data import DataConfig
from ladabench.core.errors import ConfigError, DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")
#: version of the decoded-cache layout and decoding recipe (part of the cache key)
CACHE_FORMAT = 1


class ImageFile(NamedTuple):
    rel: str  #: relative posix path
    size: int  #: bytes
    mtime_ns: int


def list_images(root: Path) -> list[ImageFile]:
    """Every image under ``root`` (one walk of the folder), sorted by relative path."""
    if not root.is_dir():
        raise DataError(f"image folder {root}/ does not exist (set data.root to a folder of images)")
    found = []
    for dirpath, _, filenames in os.walk(root, followlinks=True):
        for name in filenames:
            if name.lower().endswith(EXTENSIONS):
                path = Path(dirpath) / name
                st = path.stat()
                found.append(ImageFile(path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns))
    if not found:
        exts = ", ".join(EXTENSIONS)
        raise DataError(f"image folder {root}/ holds no images (looked recursively for {exts})")
    return sorted(found)


def decode_image(path: str, resolution: int, resize_filter: str) -> np.ndarray:
    """The file at ``path`` as RGB uint8 ``(3, R, R)``; a DataError naming the file when PIL
    cannot read it."""
    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise DataError(f"{path}: cannot read image ({e})") from None
    x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None]
    return resize_uint8(x, resolution, resize_filter)[0].numpy()


class ImageFolder(ImageSource):
    """Images under a folder as ``(3, R, R)`` uint8: read from the decoded cache, or resized on
    access when ``data.cache`` is false."""

    #: sub-folder of the default data root used when ``data.root`` is None (None: root required)
    default_subdir: str | None = None

    def __init__(self, cfg: DataConfig) -> None:
        super().__init__(cfg)
        if cfg.root is not None:
            self.root = Path(cfg.root).expanduser()
        elif self.default_subdir is not None:
            self.root = default_data_root() / self.default_subdir
        else:
            exts = ", ".join(EXTENSIONS)
            raise ConfigError(f"data.root: data set {cfg.name!r} needs a folder of {exts} images")
        self.files = list_images(self.root)
        self._pixels: np.ndarray | None = None  # the decoded cache, memory-mapped
        self.decodes_on_access = not cfg.cache

    def __len__(self) -> int:
        return len(self.files)

    def __getstate__(self) -> dict:
        """Pickled (spawned DataLoader workers) without the memory map: reopened on first read."""
        return {**self.__dict__, "_pixels": None}

    def image(self, index: int) -> torch.Tensor:
        if not self.cfg.cache:
            return torch.from_numpy(self.decoder()(str(self.root / self.files[index].rel)))
        return torch.from_numpy(np.array(self.pixels()[index]))

    def images(self, indices: torch.Tensor) -> torch.Tensor:
        if not self.cfg.cache:
            return super().images(indices)
        return torch.from_numpy(self.pixels()[indices.numpy()])

    def probe(self) -> int:
        """Decodes the first file only (never builds the decoded cache)."""
        self.decoder()(str(self.root / self.files[0].rel))
        return len(self.files)

    def prepare(self) -> None:
        if self.cfg.cache:
            self.pixels()

    def pixels(self) -> np.ndarray:
        """The decoded cache ``(N, 3, R, R)`` uint8, memory-mapped (decoded first if missing)."""
        if self._pixels is None:
            r = self.cfg.resolution
            self._pixels = open_decoded(
                decoded_dir(self.cache_name()), [str(self.root / f.rel) for f in self.files],
                self.decoder(), (3, r, r), meta={"root": str(self.root), **self.cache_fields()},
                desc=f"decoding {self.root}/ at {r}x{r}",
            )
        return self._pixels

    def decoder(self) -> functools.partial:
        """``decode(path) -> (3, R, R) uint8`` at this data set's resolution and filter (picklable)."""
        return functools.partial(decode_image, resolution=self.cfg.resolution,
                                 resize_filter=self.cfg.resize_filter)

    def cache_fields(self) -> dict:
        """Everything the decoded pixels depend on (not the folder's location)."""
        h = hashlib.sha256()
        for f in self.files:
            h.update(f"{f.rel}\t{f.size}\t{f.mtime_ns}\n".encode())
        return {
            "format": CACHE_FORMAT, "files": h.hexdigest(), "n": len(self.files),
            "resolution": self.cfg.resolution, "resize_filter": self.cfg.resize_filter,
            "pillow": PIL.__version__, "torch": torch.__version__.split("+")[0],
        }

    def cache_name(self) -> str:
        """The decoded cache entry: readable prefix, then the content key."""
        return f"{self.cfg.name}-{self.cfg.resolution}px-{content_key(self.cache_fields())[:24]}"

    def content_id(self) -> str:
        """sha256 of the sorted (relative path, size) list: cheap for 200k files, machine-independent."""
        h = hashlib.sha256(b"folder")
        for f in self.files:
            h.update(f"{f.rel}\t{f.size}\n".encode())
        return h.hexdigest()


DATASETS.register("folder")(ImageFolder)


@DATASETS.register("celeba")
class CelebA(ImageFolder):
    default_subdir = "celeba"


@DATASETS.register("ffhq")
class FFHQ(ImageFolder):
    default_subdir = "ffhq"


@DATASETS.register("lsun_bedroom")
class LSUNBedroom(ImageFolder):
    default_subdir = "lsun_bedroom"
