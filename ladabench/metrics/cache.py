"""Where metrics keep their files, and content-addressed cache keys.

The cache folder is ``$LADABENCH_CACHE`` (default ``~/.cache/ladabench``): downloaded weights
without a torch-hub home and torch-fidelity's feature/statistics cache under ``fidelity/`` (the
digit classifier ships with the package and is never cached). Keys are hashes of everything that determines the cached value (StyleGAN2-ADA
style), never a bare name (torch-fidelity's own cache keys by name only).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

#: environment variable naming the metrics cache folder
CACHE_ENV = "LADABENCH_CACHE"

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """``$LADABENCH_CACHE`` if set, else ``~/.cache/ladabench`` (created on demand by writers)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ladabench"


def fidelity_cache_dir() -> Path:
    """torch-fidelity's ``cache_root`` for ladabench inputs (real features and FID statistics)."""
    return cache_dir() / "fidelity"


def content_key(fields: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``fields`` (sorted keys, no whitespace)."""
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


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
) -> str:
    """torch-fidelity ``input2_cache_name`` for a set of real images.

    Every argument changes the features or the statistics, so every argument is in the key:
    a new weights file, another sample count or other pixels can never hit a stale entry.
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
    }
    return f"ladabench-{dataset}-{split}-{resolution}px-{n_real}-{content_key(fields)[:20]}"
