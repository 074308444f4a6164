"""A tiny registered 32×32 preset for the training tests (test-only; not part of the package).

Imported by ``tests/train/conftest.py`` and by the subprocesses of the resume test.
"""
from __future__ import annotations

from ladabench.models.presets import PRESETS, Preset

TINY = "tiny_32"


def register_tiny() -> None:
    if TINY in PRESETS:
        return

    def tiny_32() -> Preset:
        """Same topology as cifar10_32 (3 G stages, 1 D downBlock + Ladaformer), tiny widths."""
        return Preset(
            img_size=32, noise_dim=16, g_dim=(64, 16, 4), g_heads=(2, 2, 2), g_mlp=(32, 32, 16),
            dec_dim=(), d_enc_dim=(8, 16), d_out_dim=(16, 32), d_heads=2, d_mlp=32,
            provenance="test-only tiny preset (tests/train/tiny.py)",
        )

    PRESETS.register(TINY)(tiny_32)


def tiny_overrides(**train) -> dict:
    """A run-config mapping: tiny model on the embedded digits, no evaluation."""
    t = {
        "batch_size": 8, "noise_dim": 16, "images": 8 * 40, "log_every_images": 8 * 10,
        "sample_every_images": 8 * 20, "checkpoint_every_images": 8 * 20, "device": "cpu",
        "n_samples": 4, "n_attn_samples": 2, "deterministic": True,
    }
    t.update(train)
    return {
        "name": "tiny", "model": {"preset": TINY}, "data": {"name": "digits"},
        "train": t, "eval": {"metrics": []},
    }
