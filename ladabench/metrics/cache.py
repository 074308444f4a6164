"""Where metrics keep their files, and the real-statistics cache key.

Under the cache folder (``ladabench.core.cache``: ``$LADABENCH_CACHE``, default
``~/.cache/ladabench``): downloaded weights without a torch-hub home and torch-fidelity's
feature/statistics cache under ``fidelity/`` (the digit classifier ships with the package and is
never cached). Keys are hashes of everything that determines the cached value (StyleGAN2-ADA
style), never a bare name (torch-fidelity's own cache keys by name only).
"""
from __future__ import annotations

import logging
from pathlib import Path

from ladabench.core.cache import CACHE_ENV, cache_dir, content_key

__all__ = ["CACHE_ENV", "cache_dir", "content_key", "fidelity_cache_dir", "real_stats_cache_name"]

log = logging.getLogger(__name__)


def fidelity_cache_dir() -> Path:
    """torch-fidelity's ``cache_root`` for ladabench inputs (real features and FID statistics)."""
    return cache_dir() / "fidelity"


def real_stats_cache_name(
    *,
    dataset: str,
    dataset_fingerprint: str,
    split: str,
    resolution: int,
    n_real: int,
    extractor: str,
    weights_sha256: str,
    feature_layer: str,
    sample_seed: int,
    device_type: str,
    precision: str,
) -> str:
    """torch-fidelity ``input2_cache_name`` for a set of real images.

    Every argument changes the features or the statistics, so every argument is in the key:
    a new weights file, another sample count or other pixels can never hit a stale entry, nor
    can features computed on another kind of device (GPU kernels round differently from CPU
    ones) or at another precision.
    The readable prefix is for people listing the folder; only the hash decides a hit.
    """
    fields = {
        "dataset_fingerprint": dataset_fingerprint,
        "split": split,
        "resolution": resolution,
        "n_real": n_real,
        "extractor": extractor,
        "weights_sha256": weights_sha256,
        "feature_layer": feature_layer,
        "sample_seed": sample_seed,
        "device_type": device_type,
        "precision": precision,
    }
    return f"ladabench-{dataset}-{split}-{resolution}px-{n_real}-{content_key(fields)[:20]}"
