"""Where ladabench caches what it computed, and how cache entries are keyed.

The cache folder is ``$LADABENCH_CACHE`` (default ``~/.cache/ladabench``). Entries are named by a
hash of everything that determines their content (StyleGAN2-ADA style), never by a bare name.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

#: environment variable naming the cache folder
CACHE_ENV = "LADABENCH_CACHE"


def cache_dir() -> Path:
    """``$LADABENCH_CACHE`` if set, else ``~/.cache/ladabench`` (created on demand by writers)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "ladabench"


def content_key(fields: dict[str, Any]) -> str:
    """sha256 hex of the canonical JSON of ``fields`` (sorted keys, no whitespace)."""
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
