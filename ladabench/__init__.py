"""ladabench: a benchmark and reproducibility suite for efficient-attention GANs.

The public API (each name loads its layer on first use, so ``import ladabench`` needs no torch)::

    suite = ladabench.load_suite("suites/quickstart.yaml")      # validate and expand a suite
    ladabench.run_suite("suites/quickstart.yaml")               # launch it (local, debug, SLURM)
    ladabench.train_config("my_run.yaml", "results/my_run")     # train one run config
    G = ladabench.build_generator(ladabench.ModelConfig(preset="cifar10_32", g_attention="lada"))
    attn = ladabench.build_attention("swin", 256, 4, 256, window=8)
    ladabench.evaluate(G, cfg, n_gen=500, n_real=500)           # FID/KID with their protocols
    ladabench.render_report(["results/quickstart"])             # HTML report
    rows, code = ladabench.check("results/ci_regression", "baselines/regression/ci_regression.yaml")
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "RunConfig": "ladabench.config",
    "ModelConfig": "ladabench.config",
    "load_run_config": "ladabench.config",
    "load_suite": "ladabench.suite",
    "run_suite": "ladabench.launch",
    "train_config": "ladabench.api",
    "check": "ladabench.api",
    "build_attention": "ladabench.attention",
    "register_attention": "ladabench.attention",
    "TokenAttention": "ladabench.attention",
    "build_generator": "ladabench.models",
    "build_discriminator": "ladabench.models",
    "evaluate": "ladabench.metrics",
    "load_results": "ladabench.results",
    "render_report": "ladabench.report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ladabench' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
