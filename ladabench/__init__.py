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

from ladabench.core.lazy import lazy_exports

__version__ = "0.1.0"

__all__, __getattr__ = lazy_exports(__name__, {
    "ladabench.config": ("RunConfig", "ModelConfig", "load_run_config"),
    "ladabench.suite": ("load_suite",),
    "ladabench.launch": ("run_suite",),
    "ladabench.api": ("train_config", "check"),
    "ladabench.attention": ("build_attention", "register_attention", "TokenAttention"),
    "ladabench.models": ("build_generator", "build_discriminator"),
    "ladabench.metrics": ("evaluate",),
    "ladabench.results": ("load_results",),
    "ladabench.report": ("render_report",),
})
