"""Everything a run builds before its first step: device, seeds, models, EMA, optimisers, data.

Optional departures from the paper (each off by default, TrainConfig): ``amp: bf16`` (autocast,
CUDA only), ``compile`` (``torch.compile`` of G, and of D only when R1 is off because inductor
has no double backward), ``channels_last`` (NHWC memory layout), ``r1_interval > 1`` (lazy R1,
weight × interval on the steps that compute it, as StyleGAN2).
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.core.errors import ConfigError
from ladabench.config.train import TrainConfig
from ladabench.train.ema import EMAUpdater, make_ema
from ladabench.train.observe import GradNorms
from ladabench.train.steps import Models, d_step, g_step


def check_device_options(t: TrainConfig, device: torch.device) -> None:
    """Combinations that depend on the device, checked before anything is built."""
    if t.amp == "bf16" and device.type != "cuda":
        raise ConfigError(f"train.amp: 'bf16' autocast is a GPU option; device is {device}")


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


def build_setup(cfg: RunConfig, device: torch.device, dataset=None) -> TrainSetup:
    """Seed, build G, D, the EMA copy, the optimisers and the data set (``dataset`` overrides)."""
    t = cfg.train
    seed_everything(t)
    G, D = build_models(cfg, device)
    G_ema = make_ema(G)
    opt_G = make_adam(G.parameters(), t.g_lr, t)
    opt_D = make_adam(D.parameters(), t.d_lr, t)
    ema = EMAUpdater(G_ema, G, t.ema_decay)
    G_run = torch.compile(G) if t.compile else G
    D_run = torch.compile(D) if t.compile and t.r1_weight == 0 else D
    models = Models(G_run, D_run, opt_G, opt_D, ema.update)
    g_norms, d_norms = GradNorms(G, "G"), GradNorms(D, "D")
    if dataset is None:
        from ladabench.data import build_dataset

        dataset = build_dataset(cfg.data)
    return TrainSetup(
        G, D, G_ema, opt_G, opt_D, g_norms, d_norms, dataset,
        d_step=partial(d_step, models, cfg=t, norms=d_norms),
        g_step=partial(g_step, models, t.batch_size, t, g_norms, device),
    )
