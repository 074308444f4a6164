"""Metrics: FID/KID through torch-fidelity, Stacked-MNIST modes, cost measures, scaling sweeps.

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
    "training_macs": "ladabench.metrics.costs",
    "model_costs": "ladabench.metrics.costs",
    "run_scaling": "ladabench.metrics.scaling",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ladabench.metrics' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
