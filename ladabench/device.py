"""Which torch device a setting names, with one error naming the setting when it cannot be
used. Shared by training, ``ladabench bench`` and the scaling sweep."""
from __future__ import annotations

import os

import torch

from ladabench.core.errors import ConfigError


def resolve_device(name: str, key: str = "train.device") -> torch.device:
    """``auto`` = CUDA when available, else CPU; any other torch device string is taken as is.
    A CUDA device becomes the current one (``torch.cuda.set_device``), so that nothing opens a
    stray context on GPU 0; its index must be below the visible device count. ``key`` names the
    setting in error messages."""
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
    if device.type == "cuda" and device.index is not None:
        _use_cuda_device(device, name, key)
    return device


def _use_cuda_device(device: torch.device, name: str, key: str) -> None:
    count = torch.cuda.device_count()
    if device.index >= count:
        raise ConfigError(f"{key}: {name!r} requested but {count} CUDA device(s) are visible "
                          f"(CUDA_VISIBLE_DEVICES="
                          f"{os.environ.get('CUDA_VISIBLE_DEVICES')!r})")
    torch.cuda.set_device(device)
