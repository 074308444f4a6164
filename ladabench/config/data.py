"""The ``data`` section of a run config."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ladabench.core.schema import StrictModel

#: resize filters (``ladabench.data.base.resize_uint8``): "bilinear" = TF ``tf.image.resize``
#: (half-pixel centres, no antialias: the reference); the ``_antialias`` ones behave like PIL
#: data set splits: "train" / "test" (digits: per class first 400 / last 100; cifar10: the
#: official splits) or "all" (digits only); a folder data set is one split ("train")
Split = Literal["train", "test", "all"]
ResizeFilter = Literal["bilinear", "bilinear_antialias", "bicubic_antialias"]


class DataConfig(StrictModel):
    """A registered data set (``ladabench.data``) at one resolution.

    ``fraction`` < 1 selects a fixed subset drawn with ``subset_seed`` (data-efficiency study).
    ``root`` None means ``default_data_root()`` (``$LADABENCH_DATA`` or ``~/.cache/ladabench/data``).
    ``split``: "train" / "test" (digits: per class first 400 / last 100; cifar10: the official
    splits) or "all" (digits only); a folder data set is one split ("train").
    ``cache``: a folder data set is decoded once into a memory-mapped uint8 cache at
    ``resolution`` (under ``$LADABENCH_CACHE/decoded/``); false decodes every image on access.
    ``workers``: DataLoader worker processes for training (None: 0, except for a folder decoded
    on access on a GPU: up to 4). Neither changes a pixel (both are left out of the config hash).
    """

    name: str = "digits"
    root: str | None = None
    resolution: int = Field(default=32, gt=0)
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    subset_seed: int = 0
    download: bool = False
    split: Split = "train"
    resize_filter: ResizeFilter = "bilinear"
    cache: bool = True
    workers: int | None = Field(default=None, ge=0)
