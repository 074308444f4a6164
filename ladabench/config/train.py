"""The ``train`` section of a run config. Defaults are the released CIFAR-10 config (TF
semantics, docs/paper.md §8 and §13); the optional departures are off by default."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_serializer, model_validator

from ladabench.core.schema import StrictModel, tuple_from_list

Beta = Annotated[float, Field(ge=0, lt=1)]

#: DiffAugment policy names (Zhao et al. 2020; ``ladabench.train.diffaug.POLICIES``)
DiffAugPolicy = Literal["color", "translation", "cutout"]
#: the paper's z width (docs/paper.md), the default of ``train.noise_dim``
NOISE_DIM = 128


def policies_from_text(value: Any) -> Any:
    """Before-validator: ``"color,translation"`` (the reference's flag and the on-disk form) or
    a list of policy names."""
    if isinstance(value, str):
        return tuple(p.strip() for p in value.split(",") if p.strip())
    return tuple(value) if isinstance(value, list) else value


class TrainConfig(StrictModel):
    #: global batch (the paper's 128 or 64; far above what one accelerator holds is a typo)
    batch_size: int = Field(default=128, gt=0, le=65_536)
    #: z width: z feeds G's first Dense and every SLN (128 in every paper config); the one
    #: setting of it (presets describe layers only)
    noise_dim: int = Field(default=NOISE_DIM, gt=0)
    g_lr: float = Field(default=2e-4, gt=0)
    d_lr: float = Field(default=2e-4, gt=0)
    #: Adam's (beta1, beta2), each in [0, 1)
    betas: Annotated[tuple[Beta, Beta], BeforeValidator(tuple_from_list)] = (0.5, 0.99)
    #: Keras Adam epsilon (PyTorch's default is 1e-8)
    adam_eps: float = Field(default=1e-7, gt=0)
    loss: Literal["nsl"] = "nsl"
    #: R1 weight on the sum of D's 25 logits, no 1/2 factor (TF gp_weight)
    r1_weight: float = Field(default=1e-4, ge=0)
    #: departure: lazy R1 every k D steps (reference: 1 = every step)
    r1_interval: int = Field(default=1, ge=1)
    bcr: bool = False
    cr_weight: float = Field(default=0.1, ge=0)
    #: DiffAugment policies applied in this order, from {color, translation, cutout}: a list
    #: or the reference's comma string (``[]`` / ``""`` = none); written as the comma string,
    #: so config hashes and run folders keep one form
    diffaug: Annotated[tuple[DiffAugPolicy, ...], BeforeValidator(policies_from_text)] = (
        "color", "translation")
    ema_decay: float = Field(default=0.999, ge=0, lt=1)
    #: EMA of G's buffers (BatchNorm running statistics of the 128² conv decoder): ``average``
    #: with the same decay as the weights (the reference: they are in ``generator.weights``) or
    #: ``copy`` G's at every update
    ema_buffers: Literal["average", "copy"] = "average"
    #: the EMA generator's start: ``copy`` of G (ladabench's choice: better for short runs) or
    #: ``fresh``, a second independent initialisation (the reference's Keras ``clone_model``)
    ema_start: Literal["copy", "fresh"] = "copy"
    #: schedule length in real images shown to D (iterations × batch)
    images: int = Field(default=68_096_000, gt=0)
    #: departure: also stop (status finished, ``summary.stopped_by: time_budget``) once the
    #: training steps have taken this many seconds; evaluations, samples and checkpoints are
    #: not counted. None = the schedule alone decides
    time_budget_s: float | None = Field(default=None, gt=0)
    #: the budget's clock: ``wall`` (elapsed time) or ``cpu`` (this process's CPU time, all
    #: threads: on a machine shared with other jobs every run still gets the same compute)
    time_budget_clock: Literal["wall", "cpu"] = "wall"
    log_every_images: int = Field(default=12_800, gt=0)
    sample_every_images: int = Field(default=512_000, gt=0)
    checkpoint_every_images: int = Field(default=512_000, gt=0)
    #: keep both Adam states (and the RNG states) in the checkpoint of a finished run, so that
    #: it can be continued exactly; by default a finished run keeps G, D and the EMA generator
    keep_optimizer_state: bool = False
    #: gradient spike = norm > spike_factor × rolling median of the last spike_window steps
    spike_factor: float = Field(default=10.0, gt=1)
    spike_window: int = Field(default=200, ge=2)
    device: str = "auto"
    seed: int = 0
    deterministic: bool = False
    #: departures from the paper, each off by default (docs/performance.md)
    #: bf16 autocast (CUDA; CPUs with AMX or AVX512-BF16, elsewhere it warns that it is slow)
    amp: Literal["off", "bf16"] = "off"
    #: TensorFloat-32 matmuls and convolutions on CUDA (what TF did by default on Ampere GPUs,
    #: where the reference was trained); off = strict fp32, also for cuDNN convolutions
    tf32: bool = False
    #: torch.compile of G, and of D in the G step and in D steps without R1 (no double backward)
    compile: bool = False
    channels_last: bool = False
    #: fixed-z sample grid size (images) and how many of them get attention-map plots
    n_samples: int = Field(default=64, gt=0)
    n_attn_samples: int = Field(default=8, ge=0)

    @field_serializer("diffaug")
    def _as_text(self, policies: tuple[str, ...]) -> str:
        return ",".join(policies)

    @model_validator(mode="after")
    def _consistent(self) -> "TrainConfig":
        if self.n_attn_samples > self.n_samples:
            raise ValueError(
                f"n_attn_samples={self.n_attn_samples} exceeds n_samples={self.n_samples}"
            )
        return self
