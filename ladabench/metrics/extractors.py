"""Feature extractors of the metrics: the torch-fidelity name, where the weights come from, the
feature layer (FID, KID, precision/recall), the classifier logits (Inception Score) and whether
values are comparable with published numbers (``standard``).

Registry keys use ``_`` (ladabench registry names are ``[a-z0-9_]+``); configs and protocol stamps
use torch-fidelity's names (``inception-v3-compat``, ``digits-cnn``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ladabench.core.errors import ConfigError, RegistryError
from ladabench.metrics import digits_cnn
from ladabench.config.eval import EvalConfig
from ladabench.metrics.inception import check_weights_file, find_inception_weights
from ladabench.core.registry import Registry


@dataclass(frozen=True)
class Extractor:
    """One registered extractor.

    Attributes:
        name: torch-fidelity ``feature_extractor`` name.
        feature_layer: the layer FID, KID and precision/recall use.
        logits_layer: the classifier's logits, whose softmax the Inception Score uses.
        standard: True only for the extractor published FIDs use (TF-Inception).
        weights: ``(EvalConfig, download=True) -> Path`` of the weights file (raises DataError
            when unavailable or unreadable; ``download=False``: look for a local copy only).
        made_for: the data sets its features were trained on, when it suits those only (the
            pre-flight warns when it is used on others); empty: any images.
    """

    name: str
    feature_layer: str
    logits_layer: str
    standard: bool
    weights: Callable[..., Path]
    made_for: tuple[str, ...] = ()


def _check(obj: object) -> None:
    if not isinstance(obj, Extractor):
        raise TypeError(f"{obj!r} is not an Extractor")


EXTRACTORS: Registry[Extractor] = Registry("extractor", check=_check)


def register_extractor(extractor: Extractor) -> Extractor:
    return EXTRACTORS.register(extractor.name.replace("-", "_"))(extractor)


def get_extractor(name: str) -> Extractor:
    """The extractor configured as ``eval.extractor``; unknown names raise ConfigError."""
    try:
        return EXTRACTORS.get(name.replace("-", "_"))
    except RegistryError:
        choices = ", ".join(e.name for _, e in EXTRACTORS.items())
        raise ConfigError(f"unknown extractor {name!r}; available: {choices}",
                          key="eval.extractor") from None


register_extractor(
    Extractor(
        name="inception-v3-compat",
        feature_layer="2048",
        logits_layer="logits_unbiased",
        standard=True,
        weights=lambda ecfg, download=True: check_weights_file(
            find_inception_weights(ecfg.inception_weights, download=download),
            "eval.inception_weights" if ecfg.inception_weights else None),
    )
)
register_extractor(
    Extractor(
        name=digits_cnn.NAME,
        feature_layer=digits_cnn.FEATURE_LAYER,
        logits_layer=digits_cnn.LOGITS_LAYER,
        standard=False,
        weights=lambda ecfg, download=True: digits_cnn.weights_path(),
        made_for=("digits", "stacked_digits"),
    )
)
