"""The ``data`` section of a run config."""
from __future__ import annotations

from pydantic import Field

from ladabench.schema import StrictModel


class DataConfig(StrictModel):
    """A registered data set (``ladabench.data``) at one resolution.

    ``fraction`` < 1 selects a fixed subset drawn with ``subset_seed`` (data-efficiency study).
    """

    name: str = "digits"
    root: str | None = None
    resolution: int = Field(default=32, gt=0)
    fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    subset_seed: int = 0
    download: bool = False
