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
    """A registered data set (``ladabench.data``) at one resolution."""

    name: str = "digits"
    """registered data set: digits, stacked_digits, cifar10, folder, celeba, ffhq,
    lsun_bedroom (or one a plugin registers)"""
    root: str | None = None
    """where the data set lives; None = ``$LADABENCH_DATA`` or ``~/.cache/ladabench/data``
    (a ``folder`` data set needs it: the folder of images)"""
    resolution: int = Field(default=32, gt=0)
    """training resolution R (images are resized to R×R); must match the model preset"""
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    """< 1 trains on a fixed subset of this fraction, drawn with ``subset_seed``"""
    subset_seed: int = Field(default=0, ge=0, lt=2**32)
    """seed of the ``fraction`` subset (0 .. 2**32 - 1, numpy's range)"""
    download: bool = False
    """download the data set when missing (cifar10; on a machine with internet)"""
    split: Split = "train"
    """"train" / "test" (digits: per class first 400 / last 100; cifar10: the official
    splits) or "all" (digits only); a folder data set is one split ("train")"""
    resize_filter: ResizeFilter = "bilinear"
    """"bilinear" = TF ``tf.image.resize`` (half-pixel centres, no antialias: the reference);
    the ``_antialias`` ones behave like PIL"""
    cache: bool = True
    """a folder data set is decoded once into a memory-mapped uint8 cache at ``resolution``
    (under ``$LADABENCH_CACHE/decoded/``); false decodes every image on access. Changes no
    pixel (left out of the config hash)"""
    workers: int | None = Field(default=None, ge=0)
    """DataLoader worker processes for training (None: 0, except for a folder decoded on
    access on a GPU: up to 4). Changes no pixel (left out of the config hash)"""
