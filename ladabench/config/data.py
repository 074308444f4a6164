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
    """

    name: str = "digits"
    root: str | None = None
    resolution: int = Field(default=32, gt=0)
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    subset_seed: int = 0
    download: bool = False
    split: Split = "train"
    resize_filter: ResizeFilter = "bilinear"
