"""Metrics of generated images: FID/KID through torch-fidelity, Stacked-MNIST modes, each a
registered function with a protocol stamp.

Public entry points load lazily (torch-fidelity takes seconds to import, and ``flops`` users
should not pay for it): ``from ladabench.metrics import evaluate``.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "evaluate": "ladabench.metrics.evaluation",
    "register_metric": "ladabench.metrics.evaluation",
    "list_metrics": "ladabench.metrics.evaluation",
    "METRICS": "ladabench.metrics.evaluation",
    "count_modes": "ladabench.metrics.modes",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ladabench.metrics' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
