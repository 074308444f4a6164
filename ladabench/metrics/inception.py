"""The standard FID extractor's weights: torch-fidelity ``inception-v3-compat`` (the TF Inception
2015-12-05 graph that pytorch-fid and the paper's numbers use), found locally or fetched once.

Search order: ``eval.inception_weights`` / ``--inception-weights PATH`` (must exist), torch-hub's
checkpoint folder (where torch-fidelity itself caches the file), ``$LADABENCH_CACHE``. When none
has it, one download is attempted (the same URL torch-fidelity uses); offline that fails fast and
the user gets one error naming the file, where to put it and ``ladabench fetch --inception``.
Nothing ever falls back to another extractor.

Checksum: the ``6726825d`` in the file name is the hash prefix of the 2015-12-05 weights' name in
pytorch-fid; whether it is the sha256 prefix of torch-fidelity's converted file is UNCONFIRMED
(it could not be downloaded here), so it is not enforced. Instead the sha256 of whatever file is
used is computed and stamped on every metric value (``weights_sha256``): two values are
comparable only if that digest matches.
"""
from __future__ import annotations

import logging
import os
import urllib.error
from pathlib import Path

import torch

from ladabench.core.errors import DataError, first_line
from ladabench.metrics.cache import CACHE_ENV, cache_dir
from ladabench.core.download import download_file

#: torch-fidelity 0.4.0 ``feature_extractor_inceptionv3.URL_INCEPTION_V3``
INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    "weights-inception-2015-12-05-6726825d.pth"
)
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
#: hash prefix carried by the file name (documented, not enforced: see the module docstring)
INCEPTION_NAME_HASH = "6726825d"
FETCH_COMMAND = "ladabench fetch --inception"

log = logging.getLogger(__name__)


def hub_checkpoint_path() -> Path:
    """``$TORCH_HOME/hub/checkpoints/<file>``: torch-fidelity's own download location."""
    return Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE


def candidate_paths() -> list[Path]:
    """Where a previously fetched file is looked for, in order."""
    return [hub_checkpoint_path(), cache_dir() / INCEPTION_FILE]


def missing_message(reason: str) -> str:
    """The one-line error for absent weights (tested word for word)."""
    places = " or ".join(str(p) for p in candidate_paths())
    return (
        f"Inception weights for FID/KID not found: expected {INCEPTION_FILE} "
        f"(torch-fidelity 'inception-v3-compat', TF Inception 2015-12-05, name hash {INCEPTION_NAME_HASH}; "
        f"its sha256 is recorded with every metric) at {places}, and downloading {INCEPTION_URL} "
        f"failed ({reason}). Run `{FETCH_COMMAND}` on a machine with internet and copy the file "
        f"to one of those places (${CACHE_ENV} or $TORCH_HOME choose them), or pass "
        f"--inception-weights PATH (eval.inception_weights)."
    )


def check_weights_file(path: Path, key: str | None) -> Path:
    """``path`` if it loads as a mapping of tensors (a truncated download, a file of another
    kind, a pickle with code in it fail here: before training, not at its first evaluation).
    ``key``: the config key named in the error (None: the caller names it)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises RuntimeError, UnpicklingError, ValueError, EOFError...
        reason = f"{type(e).__name__}: {first_line(e)}"
    else:
        tensors = isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
        if tensors and state:
            return path
        reason = f"a {type(state).__name__}, not a state dict of tensors"
    raise DataError(f"{key + ': ' if key else ''}{path}: not a torch weights file ({reason}); "
                    f"expected the torch-fidelity Inception weights {INCEPTION_FILE} (get it "
                    f"with `{FETCH_COMMAND}`)")


def find_inception_weights(explicit: str | os.PathLike | None = None, *, download: bool = True) -> Path:
    """Path of the Inception weights file to use.

    Args:
        explicit: a user-given file (``eval.inception_weights``); it must exist.
        download: try one download into torch-hub's folder when no local copy exists.

    Raises:
        DataError: the explicit file is missing, or no copy exists and the download failed.
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise DataError(
                f"eval.inception_weights: {path}: file not found; expected the torch-fidelity "
                f"Inception weights {INCEPTION_FILE} (get it with `{FETCH_COMMAND}`)"
            )
        return path
    for path in candidate_paths():
        if path.is_file():
            return path
    if not download:
        raise DataError(missing_message("download disabled"))
    target = hub_checkpoint_path()
    log.warning("downloading %s to %s", INCEPTION_URL, target)
    try:
        download_file(INCEPTION_URL, target)
    except (urllib.error.URLError, OSError) as e:
        raise DataError(missing_message(f"{type(e).__name__}: {getattr(e, 'reason', e)}")) from None
    return target
