"""``ladabench fetch``: download the Inception weights and data sets on a machine with internet
(e.g. a cluster login node), verified by checksum, into the caches the compute nodes read.

Inception: into torch-hub's checkpoint folder (where torch-fidelity and ladabench look), or
``DEST/<file>`` with ``--dest``; its sha256 is printed and written to ``<file>.sha256``, and an
existing copy is checked against that sidecar (or ``expected_sha256``) instead of re-downloaded.
Data sets: through each data set's own download function (torchvision verifies CIFAR-10's md5),
into ``data.root``'s default or ``DEST``.
"""
from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Callable

from ladabench.core.errors import DataError
from ladabench.metrics import inception
from ladabench.core.download import download_file, sidecar_path
from ladabench.core.registry import Registry

#: data set name -> download(root or None) -> folder written
DOWNLOADERS: Registry[Callable[[Path | None], Path]] = Registry("downloadable data set")


@DOWNLOADERS.register("cifar10")
def _cifar10(root: Path | None) -> Path:
    from ladabench.data import cifar10

    return cifar10.download_cifar10(root)


def fetch_inception(dest: Path | None = None, expected_sha256: str | None = None) -> tuple[Path, str]:
    """(path, sha256) of the Inception weights, downloaded unless a verified copy is there."""
    from ladabench.data.base import file_sha256

    path = inception.hub_checkpoint_path() if dest is None else Path(dest) / inception.INCEPTION_FILE
    if path.is_file():
        got = file_sha256(path)
        recorded = sidecar_path(path).read_text().split()[0] if sidecar_path(path).is_file() else None
        for expected in filter(None, (expected_sha256, recorded)):
            if got != expected.lower():
                raise DataError(f"{path}: sha256 {got} != expected {expected}; delete it and fetch again")
        return path, got
    try:
        return path, download_file(inception.INCEPTION_URL, path, sha256=expected_sha256)
    except (urllib.error.URLError, OSError) as e:
        raise DataError(
            f"could not download {inception.INCEPTION_URL} to {path}: {getattr(e, 'reason', e)}"
        ) from None


def fetch_assets(inception_weights: bool, datasets: list[str], dest: Path | None = None,
                 expected_sha256: str | None = None, log: Callable[[str], None] = print) -> list[dict]:
    """Fetch what was asked; returns one ``{"asset", "path", "sha256"}`` record per item.

    Unknown data set names fail before anything is downloaded.
    """
    fetchers = [DOWNLOADERS.get(name) for name in datasets]
    if not inception_weights and not datasets:
        raise DataError("nothing to fetch: pass --inception and/or --dataset NAME "
                        f"(downloadable: {', '.join(DOWNLOADERS.names())})")
    done = []
    if inception_weights:
        path, sha = fetch_inception(dest, expected_sha256)
        log(f"inception: {path} sha256 {sha}")
        if dest is not None:
            log(f"  use it with --inception-weights {path} (or copy it to {inception.hub_checkpoint_path()})")
        done.append({"asset": "inception", "path": str(path), "sha256": sha})
    for name, fetch in zip(datasets, fetchers):
        folder = fetch(None if dest is None else Path(dest))
        log(f"{name}: {folder} (checked by its downloader)")
        done.append({"asset": name, "path": str(folder), "sha256": None})
    return done
