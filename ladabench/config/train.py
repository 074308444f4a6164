"""The ``train`` section of a run config. Defaults are the released CIFAR-10 config (TF
semantics, docs/paper.md §8 and §13); the optional departures are off by default."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_serializer, field_validator, model_validator

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
    batch_size: int = Field(default=128, gt=0, le=65_536)
    """global batch (the paper's 128 or 64; far above what one accelerator holds is a typo)"""
    noise_dim: int = Field(default=NOISE_DIM, gt=0)
    """width of the latent z (the generator's first Dense and every self-modulated LayerNorm;
    128 in every paper config): the one setting of it, presets describe layers only"""
    g_lr: float = Field(default=2e-4, gt=0)
    """Adam learning rate of the generator"""
    d_lr: float = Field(default=2e-4, gt=0)
    """Adam learning rate of the discriminator"""
    betas: Annotated[tuple[Beta, Beta], BeforeValidator(tuple_from_list)] = (0.5, 0.99)
    """Adam's (beta1, beta2), each in [0, 1)"""
    adam_eps: float = Field(default=1e-7, gt=0)
    """Keras Adam epsilon (PyTorch's default is 1e-8)"""
    loss: Literal["nsl"] = "nsl"
    """non-saturating logistic loss over the batch and D's 25 patch logits"""
    r1_weight: float = Field(default=1e-4, ge=0)
    """R1 weight on the sum of D's 25 logits, no 1/2 factor (TF gp_weight); 0 = no R1"""
    r1_interval: int = Field(default=1, ge=1)
    """departure: lazy R1 every k D steps, weight × k (reference: 1 = every step)"""
    bcr: bool = False
    """balanced consistency regularisation of D on augmented reals and fakes (FFHQ-128)"""
    cr_weight: float = Field(default=0.1, ge=0)
    """weight of the bCR terms (used when ``bcr`` is true)"""
    diffaug: Annotated[tuple[DiffAugPolicy, ...], BeforeValidator(policies_from_text)] = (
        "color", "translation")
    """DiffAugment policies applied in this order, from {color, translation, cutout}: a list or
    the reference's comma string (``[]`` / ``""`` = none); written as the comma string, so
    config hashes and run folders keep one form"""
    ema_decay: float = Field(default=0.999, ge=0, lt=1)
    """decay of the EMA generator used for all samples and metrics"""
    ema_buffers: Literal["average", "copy"] = "average"
    """EMA of G's buffers (BatchNorm running statistics of the 128² conv decoder): ``average``
    with the same decay as the weights (the reference: they are in ``generator.weights``) or
    ``copy`` G's at every update"""
    ema_start: Literal["copy", "fresh"] = "copy"
    """the EMA generator's start: ``copy`` of G (ladabench's choice: better for short runs) or
    ``fresh``, a second independent initialisation (the reference's Keras ``clone_model``)"""
    images: int = Field(default=68_096_000, gt=0)
    """schedule length in real images shown to D (iterations × batch)"""
    time_budget_s: float | None = Field(default=None, gt=0)
    """departure: also stop (status finished, ``summary.stopped_by: time_budget``) once the
    training steps have taken this many seconds; evaluations, samples and checkpoints are
    not counted. None = the schedule alone decides"""
    time_budget_clock: Literal["wall", "cpu"] = "wall"
    """the budget's clock: ``wall`` (elapsed time) or ``cpu`` (this process's CPU time, all
    threads: on a machine shared with other jobs every run still gets the same compute)"""
    log_every_images: int = Field(default=12_800, gt=0)
    """one ``train`` line in metrics.jsonl (means over the interval) per this many images"""
    sample_every_images: int = Field(default=512_000, gt=0)
    """fixed-z sample grid and attention maps in ``samples/`` per this many images"""
    checkpoint_every_images: int = Field(default=512_000, gt=0)
    """``checkpoints/last.pt`` per this many images (and at the end or when stopped)"""
    keep_optimizer_state: bool = False
    """keep both Adam states (and the RNG states) in the checkpoint of a finished run, so that
    it can be continued exactly; by default a finished run keeps G, D and the EMA generator"""
    spike_factor: float = Field(default=10.0, gt=1)
    """gradient spike = norm > spike_factor × rolling median of the last spike_window steps"""
    spike_window: int = Field(default=200, ge=2)
    """steps in the rolling median of the spike test"""
    device: str = "auto"
    """``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N``"""
    seed: int = Field(default=0, ge=0, lt=2**32)
    """seed of the weights, the data order, the latents and the augmentations (0 .. 2**32 - 1,
    numpy's range)"""
    deterministic: bool = False
    """torch's deterministic algorithms only (slower; cuDNN autotuning off)"""
    amp: Literal["off", "bf16"] = "off"
    """departure: bf16 autocast (CUDA; CPUs with AMX or AVX512-BF16, elsewhere it warns that
    it is slow; docs/performance.md)"""
    tf32: bool = False
    """departure: TensorFloat-32 matmuls and convolutions on CUDA (what TF did by default on
    Ampere GPUs, where the reference was trained); off = strict fp32, also for cuDNN"""
    compile: bool = False
    """departure: torch.compile of G, and of D in the G step and in D steps without R1 (no
    double backward)"""
    channels_last: bool = False
    """departure: NHWC memory layout of G and D"""
    sync_batchnorm: bool = True
    """with several processes (docs/distributed.md), BatchNorm layers normalise with the
    statistics of the global batch, as one process with ``batch_size`` does; false =
    departure: each process normalises its own batch / world size samples (a single process
    is unaffected)"""
    rank_streams: Literal["own", "sliced"] = "own"
    """with several processes, where each one's latents and DiffAugment draws come from:
    ``own``, a stream per process seeded from (seed, rank); ``sliced``, every process draws
    those of the whole global batch from the seed's one stream and keeps its slice: the same
    per-sample noise as one process, so results do not depend on the number of processes and
    a resume at another world size is exact, at world-size times the (small) drawing cost"""
    n_samples: int = Field(default=64, gt=0)
    """fixed-z sample grid size (images)"""
    n_attn_samples: int = Field(default=8, ge=0)
    """how many of the sample grid's latents get attention-map plots"""
    log_to: list[Literal["tensorboard", "wandb"]] = Field(default_factory=list)
    """experiment trackers that receive every metrics.jsonl scalar and sample grid:
    ``tensorboard`` (``<run>/tensorboard/``), ``wandb`` (``<run>/wandb/``); each needs its
    optional extra, e.g. ``pip install 'ladabench[tensorboard]'``. Not part of the experiment
    (left out of the config hash)"""
    wandb_project: str = "ladabench"
    """the W&B project of ``log_to: [wandb]`` (entity: ``$WANDB_ENTITY`` or your default)"""
    wandb_mode: Literal["offline", "online"] = "offline"
    """``offline`` writes the W&B run into the run folder only (``wandb sync
    <run>/wandb/offline-run-*`` uploads it later, e.g. from a login node); ``online`` streams
    it"""

    @field_serializer("diffaug")
    def _as_text(self, policies: tuple[str, ...]) -> str:
        return ",".join(policies)

    @field_validator("log_to")
    @classmethod
    def _each_tracker_once(cls, v: list[str]) -> list[str]:
        if len(set(v)) < len(v):
            raise ValueError(f"each tracker at most once, got {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> "TrainConfig":
        if self.n_attn_samples > self.n_samples:
            raise ValueError(
                f"n_attn_samples={self.n_attn_samples} exceeds n_samples={self.n_samples}"
            )
        return self
