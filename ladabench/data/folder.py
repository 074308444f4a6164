"""Image folders (CelebA, FFHQ, LSUN Bedroom exported to files): ``folder`` and its aliases.

Every ``.png``/``.jpg``/``.jpeg`` (any case) under ``root``, recursively, in sorted relative-path
order; other files are ignored. Each image is decoded lazily with PIL, converted to RGB and
resized to R x R with ``data_cfg.resize_filter`` (default "bilinear" = TF ``tf.image.resize``,
the reference's filter; no crop, no flip: a non-square image is stretched, as in the reference).

``folder`` needs ``data.root``. The aliases ``celeba``, ``ffhq`` and ``lsun_bedroom`` are the same
loader whose root defaults to ``<default data root>/<name>`` (e.g. ``~/.cache/ladabench/data/ffhq``).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ladabench.data.base import DATASETS, ImageSource, default_data_root, resize_uint8
from ladabench.config.data import DataConfig
from ladabench.core.errors import ConfigError, DataError

EXTENSIONS = (".png", ".jpg", ".jpeg")


def list_images(root: Path) -> list[tuple[str, int]]:
    """``(relative posix path, size in bytes)`` of every image under ``root``, sorted by path."""
    if not root.is_dir():
        raise DataError(f"image folder {root}/ does not exist (set data.root to a folder of images)")
    found = []
    for dirpath, _, filenames in os.walk(root, followlinks=True):
        for name in filenames:
            if name.lower().endswith(EXTENSIONS):
                path = Path(dirpath) / name
                found.append((path.relative_to(root).as_posix(), path.stat().st_size))
    if not found:
        exts = ", ".join(EXTENSIONS)
        raise DataError(f"image folder {root}/ holds no images (looked recursively for {exts})")
    return sorted(found)


class ImageFolder(ImageSource):
    """Images under a folder, resized to ``(3, R, R)`` uint8 on access."""

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

    def __len__(self) -> int:
        return len(self.files)

    def image(self, index: int) -> torch.Tensor:
        path = self.root / self.files[index][0]
        try:
            with Image.open(path) as im:
                rgb = np.asarray(im.convert("RGB"))
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"{path}: cannot read image ({e})") from None
        x = torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None]
        return resize_uint8(x, self.cfg.resolution, self.cfg.resize_filter)[0]

    def content_id(self) -> str:
        """sha256 of the sorted (relative path, size) list: cheap for 200k files, machine-independent."""
        h = hashlib.sha256(b"folder")
        for rel, size in self.files:
            h.update(f"{rel}\t{size}\n".encode())
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
