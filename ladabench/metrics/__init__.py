"""Metrics of generated images: FID/KID through torch-fidelity, Stacked-MNIST modes, each a
registered function with a protocol stamp.

Public entry points load lazily (torch-fidelity takes seconds to import, and ``flops`` users
should not pay for it): ``from ladabench.metrics import evaluate``.
"""
from __future__ import annotations

from ladabench.core.lazy import lazy_exports

__all__, __getattr__ = lazy_exports(__name__, {
    "ladabench.metrics.evaluation": ("evaluate", "register_metric", "list_metrics", "METRICS"),
    "ladabench.metrics.modes": ("count_modes",),
})
