"""Metric registry (StyleGAN2-ADA ``metric_main`` style) and ``evaluate``.

A metric is a function ``fn(ctx: EvalContext) -> {name: {"value", "std", "protocol"}}`` registered
with ``@register_metric("name")``. Every value carries its protocol stamp (architecture.md
contract 4): two values are comparable only if their protocols are equal except ``library``.
``fid``, ``kid``, ``isc`` (Inception Score, value ``is``) and ``prc`` (improved precision and
recall, values ``precision`` and ``recall``) share one torch-fidelity pass: features are
extracted once, in the protocol's extractor (the digit CNN offline, Inception otherwise).
What is scored is a generator or a data set of uint8 images (``ladabench eval`` of a folder).
"""
from __future__ import annotations

import functools
import logging
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ladabench.config import RunConfig
from ladabench.data.base import file_sha256
from ladabench.data.build import build_source
from ladabench.core.errors import ConfigError
from ladabench.metrics import fidelity
from ladabench.metrics.digits_cnn import NAME as DIGITS_CNN, load_digits_net, weights_path
from ladabench.metrics.extractors import get_extractor
from ladabench.metrics.modes import count_modes
from ladabench.core.registry import Registry

MetricValue = dict[str, Any]
MetricFn = Callable[["EvalContext"], dict[str, MetricValue]]

METRICS: Registry[MetricFn] = Registry("metric")
log = logging.getLogger(__name__)


def register_metric(name: str) -> Callable[[MetricFn], MetricFn]:
    return METRICS.register(name)


def list_metrics() -> list[str]:
    return METRICS.names()


class EvalContext:
    """What one evaluation shares between metrics: the EMA generator (or uint8 images), the
    config, sample counts, and lazily the extractor weights and the torch-fidelity result."""

    def __init__(self, generator: fidelity.Fakes, cfg: RunConfig, n_gen: int, n_real: int,
                 device: torch.device | str, metrics: list[str]) -> None:
        self.generator, self.cfg, self.n_gen, self.n_real = generator, cfg, n_gen, n_real
        self.device, self.metrics = torch.device(device), metrics
        self.extractor = get_extractor(cfg.eval.extractor)
        self.real_data_cfg = cfg.data.model_copy(update={"split": cfg.eval.real_split, "fraction": 1.0})

    @functools.cached_property
    def weights(self) -> Path:
        """The extractor's weights file (DataError when unavailable: never another extractor)."""
        return self.extractor.weights(self.cfg.eval)

    @functools.cached_property
    def real(self) -> fidelity.RealSet:
        real = fidelity.real_set(self.real_data_cfg, self.n_real, self.extractor,
                                 file_sha256(self.weights), self.device.type)
        if real.n < self.n_real:
            warnings.warn(f"n_real {self.n_real} capped at the {real.n} images of the "
                          f"{self.real_data_cfg.split} split of {self.real_data_cfg.name!r} (stamped "
                          f"n_real {real.n}, n_real_requested {self.n_real})")
        return real

    @functools.cached_property
    def fidelity_result(self) -> dict[str, float]:
        return fidelity.compute_fidelity(
            self.generator, self.cfg.train.noise_dim, self.real, n_gen=self.n_gen,
            extractor=self.extractor, weights=self.weights, device=self.device,
            batch_size=self.cfg.eval.batch_size, metrics=set(self.metrics),
        )

    def fake_uint8(self) -> torch.Tensor:
        """The scored images as one uint8 tensor ``(n, 3, R, R)`` on the device."""
        if isinstance(self.generator, nn.Module):
            return generate_uint8(self.generator, self.cfg.train.noise_dim, self.n_gen,
                                  self.cfg.eval.batch_size, self.device)
        return torch.stack([self.generator[i] for i in range(self.n_gen)]).to(self.device)

    def fidelity_protocol(self, metric: str) -> dict[str, Any]:
        """Contract-4 stamp of a torch-fidelity metric."""
        return {
            "metric": metric,
            "extractor": self.extractor.name,
            "weights_sha256": file_sha256(self.weights),
            "feature_layer": self.extractor.feature_layer,
            "n_gen": self.n_gen,
            "n_real": self.real.n,
            "real_split": self.real_data_cfg.split,
            "dataset": self.real_data_cfg.name,
            "dataset_fingerprint": self.real.fingerprint,
            "resolution": self.real_data_cfg.resolution,
            "standard": self.extractor.standard,
            "seed": fidelity.NOISE_SEED,
            "library": fidelity.LIBRARY,
        } | ({"n_real_requested": self.n_real} if self.real.n < self.n_real else {}) \
            | extractor_device(self.device)


def extractor_device(device: torch.device) -> dict[str, str]:
    """Protocol key of features computed off the CPU: GPU kernels round differently, so such
    values are compared only with each other (CPU protocols, the baselines', carry no key)."""
    return {} if device.type == "cpu" else {"extractor_device": device.type}


def _value(value: float, std: float | None, protocol: dict) -> MetricValue:
    return {"value": float(value), "std": None if std is None else float(std), "protocol": protocol}


@register_metric("fid")
def fid(ctx: EvalContext) -> dict[str, MetricValue]:
    """Fréchet distance of the extractor's features (torch-fidelity), generated vs real."""
    return {"fid": _value(ctx.fidelity_result["fid"], None, ctx.fidelity_protocol("fid"))}


@register_metric("kid")
def kid(ctx: EvalContext) -> dict[str, MetricValue]:
    """Unbiased MMD² with the cubic polynomial kernel, mean ± std over 100 subsets."""
    protocol = ctx.fidelity_protocol("kid") | {
        "kid_subsets": fidelity.KID_SUBSETS,
        "kid_subset_size": fidelity.kid_subset_size(ctx.n_gen, ctx.real.n),
    }
    res = ctx.fidelity_result
    return {"kid": _value(res["kid"], res["kid_std"], protocol)}


@register_metric("isc")
def isc(ctx: EvalContext) -> dict[str, MetricValue]:
    """Inception Score of the generated images, mean ± std over the splits, from the protocol
    extractor's classifier (Inception's 1008 classes, or the digit CNN's 10 offline)."""
    protocol = ctx.fidelity_protocol("is") | {
        "feature_layer": ctx.extractor.logits_layer, "n_real": None, "real_split": None,
        "dataset_fingerprint": None, "isc_splits": fidelity.ISC_SPLITS,
    }
    res = ctx.fidelity_result
    return {"is": _value(res["is"], res["is_std"], protocol)}


@register_metric("prc")
def prc(ctx: EvalContext) -> dict[str, MetricValue]:
    """Improved precision (generated images inside the real manifold) and recall (real images
    inside the generated one), k-NN balls in the extractor's feature space."""
    res = ctx.fidelity_result
    out = {}
    for name in ("precision", "recall"):
        protocol = ctx.fidelity_protocol(name) | {"prc_neighborhood": fidelity.PRC_NEIGHBORHOOD}
        out[name] = _value(res[name], None, protocol)
    return out


@torch.no_grad()
def generate_uint8(generator: nn.Module, noise_dim: int, n: int, batch_size: int,
                   device: torch.device) -> torch.Tensor:
    """``n`` uint8 images ``(n, 3, R, R)`` on ``device``, noise from ``RandomState(NOISE_SEED)``
    exactly as torch-fidelity draws it."""
    rng = np.random.RandomState(fidelity.NOISE_SEED)
    out = []
    with fidelity.eval_mode(generator):
        for start in range(0, n, batch_size):
            z = torch.from_numpy(rng.randn(min(batch_size, n - start), noise_dim)).float()
            out.append(fidelity.to_uint8(generator(z.to(device))))
    return torch.cat(out)


@register_metric("modes")
def modes(ctx: EvalContext) -> dict[str, MetricValue]:
    """Stacked-MNIST: modes covered (of 1,000) and reverse KL to the uniform mode distribution."""
    if not hasattr(build_source(ctx.cfg.data), "mode_labels"):
        raise ConfigError(
            f"eval.metrics: 'modes' needs a data set with Stacked-MNIST modes (stacked_digits), "
            f"got data.name={ctx.cfg.data.name!r}"
        )
    path = weights_path()
    net = load_digits_net(path)[0].to(ctx.device)
    covered, kl = count_modes(ctx.fake_uint8(), net)
    protocol = {
        "extractor": DIGITS_CNN, "weights_sha256": file_sha256(path), "n_gen": ctx.n_gen, "n_real": None,
        "real_split": None, "dataset": ctx.cfg.data.name, "resolution": ctx.cfg.data.resolution,
        "standard": False, "seed": fidelity.NOISE_SEED, "library": "ladabench",
    } | extractor_device(ctx.device)
    return {
        "modes": _value(covered, None, {"metric": "modes"} | protocol),
        "modes_reverse_kl": _value(kl, None, {"metric": "modes_reverse_kl"} | protocol),
    }


def evaluate(generator: fidelity.Fakes, cfg: RunConfig, n_gen: int, n_real: int,
             device: torch.device | str, metrics: list[str] | None = None) -> dict[str, MetricValue]:
    """Evaluate ``generator`` (the EMA generator, or a data set of ``n_gen`` uint8 images
    ``(3, R, R)``) with ``metrics`` (default ``cfg.eval.metrics``).

    Returns ``{metric: {"value": float, "std": float | None, "protocol": {...}}}``. The
    generator and the extractor run in strict fp32 (``fidelity.strict_fp32``), whatever
    precision training uses.

    Raises:
        ConfigError: unknown metric or extractor; DataError: missing weights or data.
    """
    if not isinstance(generator, nn.Module) and len(generator) != n_gen:
        raise ValueError(f"n_gen={n_gen} but {len(generator)} images were given")
    names = list(metrics if metrics is not None else cfg.eval.metrics)
    fns = [METRICS.get(name) for name in names]  # unknown names fail before any work
    ctx = EvalContext(generator, cfg, n_gen, n_real, device, names)
    out: dict[str, MetricValue] = {}
    with fidelity.strict_fp32(ctx.device):
        for name, fn in zip(names, fns):
            out.update(fn(ctx))
            log.info("%s: %s", name, {k: v["value"] for k, v in out.items()})
    return out
