"""Everything a run builds before its first step: device, seeds, models, EMA, optimisers, data.

Optional departures from the paper (each off by default, TrainConfig; docs/performance.md):
``amp: bf16`` (autocast; on a CPU without bf16 instructions it warns that it is slow),
``tf32`` (CUDA), ``compile`` (``torch.compile`` of G, and of D in the G step and in D steps
without R1: AOTAutograd has no double backward, so a D step that computes R1 runs the eager D),
``channels_last`` (NHWC memory layout), ``r1_interval > 1`` (lazy R1, weight × interval on
the steps that compute it, as StyleGAN2).

On several processes (docs/distributed.md) every rank builds the same models from the seed;
their BatchNorm layers become :class:`~ladabench.train.syncbn.SyncBatchNorm2d`
(``train.sync_batchnorm``); G and D train through DistributedDataParallel, which averages the
gradients over the ranks (each rank's losses and R1 are means over its equal share of the
batch, so the average is the gradient of the global batch's means); then each rank's stream
of latents and augmentations starts (``train.rank_streams``, ``ladabench.train.draws``).
"""
from __future__ import annotations

import os
import random
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.core.errors import ConfigError
from ladabench.config.train import TrainConfig
from ladabench.train.distributed import SINGLE, DistContext
from ladabench.train.draws import OWN, Draws, rank_seed
from ladabench.train.ema import EMAUpdater, make_ema
from ladabench.train.observe import GradNorms
from ladabench.train.sampler import check_split
from ladabench.train.steps import Models, d_step, g_step
from ladabench.train.syncbn import convert_sync_batchnorm


class SlowOptionWarning(UserWarning):
    """A speed option that works but is expected to make this device slower."""


def cpu_bf16_support() -> str | None:
    """``"amx"`` (AMX-BF16 tiles), ``"avx512_bf16"`` (bf16 dot products), or None: this CPU has
    no bf16 instructions and bf16 autocast runs through conversions (slower than fp32)."""
    if torch.cpu._is_amx_tile_supported():
        return "amx"
    if torch.cpu._is_avx512_bf16_supported():
        return "avx512_bf16"
    return None


def check_device_options(t: TrainConfig, device: torch.device) -> None:
    """Combinations that depend on the device, checked before anything is built."""
    if t.tf32 and device.type != "cuda":
        raise ConfigError(f"train.tf32: TensorFloat-32 is a CUDA option; device is {device}")
    if t.amp == "bf16" and device.type == "cpu" and cpu_bf16_support() is None:
        warnings.warn(
            "train.amp: bf16 on a CPU without bf16 instructions (no AMX, no AVX512-BF16): "
            "autocast emulates bf16 and is usually slower than fp32", SlowOptionWarning,
            stacklevel=2,
        )


def set_fp32_precision(t: TrainConfig, device: torch.device) -> None:
    """CUDA fp32 matmuls and cuDNN convolutions: TF32 when ``tf32`` is on, else IEEE fp32
    (cuDNN convolutions would otherwise use TF32 by PyTorch's default)."""
    if device.type == "cuda":
        # the allow_tf32 flags, not the newer fp32_precision ones: torch refuses to read the old
        # flags once the new ones were set, and other code (evaluation libraries) may read them
        torch.backends.cuda.matmul.allow_tf32 = t.tf32
        torch.backends.cudnn.allow_tf32 = t.tf32


def seed_everything(t: TrainConfig) -> None:
    if t.deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = not t.deterministic
    random.seed(t.seed)
    np.random.seed(t.seed)
    torch.manual_seed(t.seed)


def make_adam(params, lr: float, t: TrainConfig) -> torch.optim.Adam:
    """Adam with Keras epsilon; the fused kernel (CUDA and CPU): same update, fewer launches."""
    return torch.optim.Adam(params, lr=lr, betas=t.betas, eps=t.adam_eps, fused=True)


@dataclass
class TrainSetup:
    G: nn.Module
    D: nn.Module
    G_ema: nn.Module
    opt_G: torch.optim.Optimizer
    opt_D: torch.optim.Optimizer
    g_norms: GradNorms
    d_norms: GradNorms
    dataset: torch.utils.data.Dataset
    d_step: Callable
    g_step: Callable


def build_models(cfg: RunConfig, device: torch.device) -> tuple[nn.Module, nn.Module]:
    from ladabench.models import build_discriminator, build_generator

    G = build_generator(cfg.model, cfg.train.noise_dim).to(device)
    D = build_discriminator(cfg.model).to(device)
    if cfg.train.channels_last:
        G, D = G.to(memory_format=torch.channels_last), D.to(memory_format=torch.channels_last)
    return G, D


def fresh_generator(cfg: RunConfig, device: torch.device) -> nn.Module:
    """A second generator with its own initial weights (drawn after G's and D's, so those are
    the same as with ``ema_start: copy``), in G's memory format."""
    from ladabench.models import build_generator

    G = build_generator(cfg.model, cfg.train.noise_dim).to(device)
    return G.to(memory_format=torch.channels_last) if cfg.train.channels_last else G


def _data_parallel(module: nn.Module, device: torch.device) -> nn.Module:
    """DistributedDataParallel over the run's process group. Buffers are not broadcast from
    rank 0 at each forward: synchronised BatchNorm keeps them equal on every rank, and without
    it each rank's own running statistics are the departure that ``sync_batchnorm: false``
    asks for. Gradients live in DDP's buckets (no copy after the all-reduce)."""
    from torch.nn.parallel import DistributedDataParallel

    ids = [device] if device.type == "cuda" else None
    # a gradient whose size-1 dimension has another stride than its bucket (the same memory
    # order; the convolution backward's choice for D's (1, C, k, k) logit head) is copied:
    # correct, one small copy, and DDP warns about it at every backward
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False,
                                   gradient_as_bucket_view=True)


def _models(G: nn.Module, D: nn.Module, opt_G, opt_D, after_g_step, t: TrainConfig,
            device: torch.device, dist: DistContext) -> Models:
    """The modules each step calls: G and D themselves, or their DistributedDataParallel
    wrappers (D's G-step pass uses D itself), compiled when ``t.compile``."""
    draws = OWN
    if dist.world_size > 1 and t.rank_streams == "sliced":
        draws = Draws(share=dist.world_size, index=dist.rank)
    G_t, D_t = (_data_parallel(G, device), _data_parallel(D, device)) if dist.active else (G, D)
    if not t.compile:
        return Models(G_t, D_t, opt_G, opt_D, after_g_step, D_g=D if dist.active else None,
                      draws=draws)
    # a compiled D step runs the eager module when it computes R1 (no double backward)
    return Models(torch.compile(G_t), torch.compile(D_t), opt_G, opt_D, after_g_step, D_r1=D_t,
                  D_g=torch.compile(D) if dist.active else None, draws=draws)


def build_setup(cfg: RunConfig, device: torch.device, dataset=None,
                dist: DistContext = SINGLE) -> TrainSetup:
    """Seed, build G, D, the EMA copy, the optimisers and the data set (``dataset`` overrides),
    for this rank of ``dist``."""
    t = cfg.train
    check_split(t.batch_size, dist.world_size)
    seed_everything(t)
    set_fp32_precision(t, device)
    G, D = build_models(cfg, device)
    # the EMA generator only samples (eval mode): plain BatchNorm, made before the conversion
    G_ema = make_ema(G, fresh_generator(cfg, device) if t.ema_start == "fresh" else None)
    if dist.world_size > 1 and t.sync_batchnorm:
        G, D = convert_sync_batchnorm(G), convert_sync_batchnorm(D)
    opt_G = make_adam(G.parameters(), t.g_lr, t)
    opt_D = make_adam(D.parameters(), t.d_lr, t)
    ema = EMAUpdater(G_ema, G, t.ema_decay, t.ema_buffers)
    models = _models(G, D, opt_G, opt_D, ema.update, t, device, dist)
    if dist.world_size > 1 and t.rank_streams == "own":
        torch.manual_seed(rank_seed(t.seed, dist.rank))
    g_norms, d_norms = GradNorms(G, "G"), GradNorms(D, "D")
    if dataset is None:
        from ladabench.data import build_dataset

        dataset = build_dataset(cfg.data)
    return TrainSetup(
        G, D, G_ema, opt_G, opt_D, g_norms, d_norms, dataset,
        d_step=partial(d_step, models, cfg=t, norms=d_norms),
        g_step=partial(g_step, models, t.batch_size // dist.world_size, t, g_norms, device),
    )
