"""The ``eval`` section of a run config: which metrics, which extractor, how many samples."""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from ladabench.config.data import Split
from ladabench.core.schema import StrictModel


class EvalConfig(StrictModel):
    metrics: list[str] = Field(default_factory=lambda: ["fid", "kid"])
    """registered metric names (ladabench.metrics)"""
    extractor: str = "inception-v3-compat"
    """"inception-v3-compat" (standard TF-Inception FID) or "digits-cnn" (offline, non-standard;
    also the Stacked-MNIST classifier of the "modes" metric)"""
    inception_weights: str | None = None
    """local Inception weights file (offline clusters); None = torch-hub / $LADABENCH_CACHE copy,
    else one download attempt (``ladabench.metrics.inception``)"""
    every_images: int = Field(default=2_560_000, ge=0)
    """in-training evaluation every this many images seen, used to pick ``checkpoints/best.pt``
    (0 = never); exclusive with ``every_iterations``"""
    every_iterations: int = Field(default=0, ge=0)
    """the same schedule in iterations (the reference's ``--fid_inter``: 500 when the paper was
    written); setting it alone turns ``every_images`` off; both > 0 is an error"""
    at_images: list[int] = Field(default_factory=list)
    """further in-training evaluations at these images seen (0 = the untrained generator,
    before the first step), e.g. a doubling schedule for short or time-budgeted runs"""
    n_gen: int = Field(default=2_500, gt=0)
    """generated images of an in-training evaluation"""
    n_real: int = Field(default=2_500, gt=0)
    """real images of ``real_split`` (the whole split, never the ``data.fraction`` subset);
    capped at the split size, and the protocol stamps the count actually used"""
    final_n_gen: int = Field(default=50_000, gt=0)
    """generated images of the final evaluation of the finished run (paper tables: 50k)"""
    final_n_real: int = Field(default=50_000, gt=0)
    """real images of the final evaluation (capped at the split size like ``n_real``)"""
    real_split: Split = "train"
    """the data split the real images come from"""
    batch_size: int = Field(default=250, gt=0)
    """images per forward of the generator and the extractor"""

    @model_validator(mode="before")
    @classmethod
    def _iterations_replace_images(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("every_iterations") and "every_images" not in data:
            return {**data, "every_images": 0}
        return data

    @model_validator(mode="after")
    def _one_schedule(self) -> "EvalConfig":
        if self.every_images and self.every_iterations:
            raise ValueError(
                f"every_images={self.every_images} and every_iterations={self.every_iterations} "
                "are exclusive: set one of them to 0")
        return self

    def period_images(self, batch_size: int) -> int:
        """Images seen between two in-training evaluations (0 = none on a schedule)."""
        return self.every_iterations * batch_size or self.every_images

    @field_validator("at_images")
    @classmethod
    def _sorted_unique(cls, v: list[int]) -> list[int]:
        if any(n < 0 for n in v):
            raise ValueError(f"expected images seen >= 0, got {min(v)}")
        return sorted(set(v))
