"""The ``train`` section of a run config. Defaults are the released CIFAR-10 config (TF
semantics, ladagan.md §7 and §11); the optional departures are off by default."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from ladabench.schema import StrictModel


class TrainConfig(StrictModel):
    batch_size: int = Field(default=128, gt=0)
    noise_dim: int = Field(default=128, gt=0)
    g_lr: float = Field(default=2e-4, gt=0)
    d_lr: float = Field(default=2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.99)
    #: Keras Adam epsilon (PyTorch's default is 1e-8)
    adam_eps: float = Field(default=1e-7, gt=0)
    loss: Literal["nsl"] = "nsl"
    #: R1 weight on the sum of D's 25 logits, no 1/2 factor (TF gp_weight)
    r1_weight: float = Field(default=1e-4, ge=0)
    #: departure: lazy R1 every k D steps (reference: 1 = every step)
    r1_interval: int = Field(default=1, ge=1)
    bcr: bool = False
    cr_weight: float = Field(default=0.1, ge=0)
    #: comma-separated DiffAugment policies from {color, translation, cutout}; "" = none
    diffaug: str = "color,translation"
    ema_decay: float = Field(default=0.999, ge=0, lt=1)
    #: schedule length in real images shown to D (iterations × batch)
    images: int = Field(default=68_096_000, gt=0)
    log_every_images: int = Field(default=12_800, gt=0)
    sample_every_images: int = Field(default=512_000, gt=0)
    checkpoint_every_images: int = Field(default=512_000, gt=0)
    #: gradient spike = norm > spike_factor × rolling median of the last spike_window steps
    spike_factor: float = Field(default=10.0, gt=1)
    spike_window: int = Field(default=200, ge=2)
    device: str = "auto"
    seed: int = 0
    deterministic: bool = False
    #: departures from the paper, each off by default
    amp: Literal["off", "bf16"] = "off"
    compile: bool = False
    channels_last: bool = False
