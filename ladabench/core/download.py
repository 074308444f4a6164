"""Checked downloads: stream to a temp file beside the target, verify the sha256, then rename.

Used only by ``ladabench fetch`` and by the one explicit Inception download attempt; tests
exercise it with ``file://`` URLs (urllib handles them like http).
"""
from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from ladabench.core.errors import DataError
from ladabench.core.io import atomic_open, write_text

CHUNK = 1 << 20


def sidecar_path(path: str | os.PathLike) -> Path:
    """``<file>.sha256``: the checksum recorded when the file was fetched (sha256sum format)."""
    return Path(f"{path}.sha256")


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    hash_prefix: str | None = None,
    timeout: float = 60.0,
) -> str:
    """Download ``url`` to ``dest`` atomically and return the file's sha256 (hex).

    ``sha256`` (full digest) or ``hash_prefix`` (leading hex digits) are verified before the
    file is moved into place; a mismatch leaves no file behind and raises DataError. The digest
    is also written to ``<dest>.sha256`` so later readers can check the file offline.

    Raises:
        urllib.error.URLError / OSError: network failures (callers turn them into DataError).
        DataError: checksum mismatch.
    """
    dest = Path(dest)
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response, atomic_open(dest, "wb") as f:
        for block in iter(lambda: response.read(CHUNK), b""):
            digest.update(block)
            f.write(block)
        got = digest.hexdigest()
        expected = sha256 or hash_prefix
        if expected and not got.startswith(expected.lower()):
            # raising inside atomic_open removes the temp file: nothing half-checked is kept
            raise DataError(
                f"checksum mismatch for {url}: expected sha256 {expected}..., got {got}; "
                f"{dest} was not written"
            )
    write_text(sidecar_path(dest), f"{got}  {dest.name}\n")
    return got
