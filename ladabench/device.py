"""Which torch device a setting names, with one error naming the setting when it cannot be
used. Shared by training, ``ladabench bench`` and the scaling sweep."""
from __future__ import annotations

import torch

from ladabench.core.errors import ConfigError


def resolve_device(name: str, key: str = "train.device") -> torch.device:
    """``auto`` = CUDA when available, else CPU; any other torch device string is taken as is.
    ``key`` names the setting in error messages."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(
            f"{key}: {name!r} is not a torch device (auto, cpu, cuda, cuda:1, ...)"
        ) from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"{key}: {name!r} requested but CUDA is not available")
    return device
