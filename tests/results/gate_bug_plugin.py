"""Suite plugin for the FID-gate test: a code regression with unchanged settings. The
generator's optimiser silently runs at 1e-5 × its configured learning rate, so G barely learns
while every config key (and so the run's config hash) stays as the baseline recorded it."""
from ladabench.train import loop

_build_setup = loop.build_setup


def _slow_generator(*args, **kwargs):
    setup = _build_setup(*args, **kwargs)
    for group in setup.opt_G.param_groups:
        group["lr"] *= 1e-5
    return setup


loop.build_setup = _slow_generator
