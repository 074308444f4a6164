"""The tiny registered 32×32 test preset for the training tests (test-only; not in the package).

Imported by ``tests/train/conftest.py`` and by the subprocesses of the resume test.
"""
from __future__ import annotations

from pathlib import Path

from ladabench.suite.plugins import load_plugin

TINY = "tiny_32"
#: the one definition of the tiny preset, shared with the suite tests (loaded as a suite plugin)
PLUGIN = Path(__file__).resolve().parents[1] / "suites" / "tiny_plugin.py"


def register_tiny() -> None:
    load_plugin(str(PLUGIN))  # cached by path: registering twice in one process is a no-op


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
