"""Checkpoints that allow exact resume.

A checkpoint holds state dicts and plain values only, so it loads with
``torch.load(weights_only=True)``. While a run trains, ``last.pt`` holds what an exact resume
needs: G, D, EMA, both optimisers, step, images seen, training time, the RNG states (python,
numpy, torch CPU, every CUDA device; stored as tensors / lists), the spike detector's history,
the best in-training metric and the resolved config. When the run finishes, ``last.pt`` is
rewritten without the optimiser and RNG states (``train.keep_optimizer_state`` keeps them), and
``best.pt`` only ever holds the EMA generator (plus the counters). Writes go through
``ladabench.core.io.torch_save`` (temp file + fsync + rename): a crash never leaves a half file.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ladabench.core.errors import DataError, first_line
from ladabench.core.io import torch_save


def rng_state(device: torch.device | None = None) -> dict[str, Any]:
    """Every RNG the training loop draws from, in ``weights_only``-loadable types: python,
    numpy, torch's CPU generator and, for a CUDA run, the generator of its own device only (a
    requeued run may see other GPUs, or fewer, under other indices)."""
    version, state, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    on_cuda = device is not None and torch.device(device).type == "cuda"
    return {
        "python": [version, list(state), gauss],
        "numpy": {
            "name": name,
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if on_cuda else None,
    }


def set_rng_state(state: dict[str, Any], device: torch.device | None = None) -> None:
    """Restore ``rng_state``'s streams; the CUDA one onto the run's current ``device``."""
    version, st, gauss = state["python"]
    random.setstate((version, tuple(st), gauss))
    n = state["numpy"]
    np.random.set_state(
        (n["name"], n["keys"].cpu().numpy().astype(np.uint32), n["pos"], n["has_gauss"],
         n["cached"])
    )
    torch.set_rng_state(state["torch"].cpu())
    cuda = state.get("cuda")
    if isinstance(cuda, torch.Tensor) and device is not None and torch.device(device).type == "cuda":
        torch.cuda.set_rng_state(cuda.cpu(), device)


def save_checkpoint(path: str | Path, payload: dict[str, Any], rng: bool = True,
                    device: torch.device | None = None) -> None:
    """Atomically write ``payload`` plus (``rng``) the current RNG states (those of ``device``
    for a CUDA run) to ``path``."""
    torch_save({**payload, "rng": rng_state(device)} if rng else payload, path)


def require(ck: dict[str, Any], key: str, path: str | Path) -> Any:
    """``ck[key]``; a missing entry is a one-line DataError naming the checkpoint."""
    if key not in ck:
        raise DataError(f"{path}: the checkpoint has no '{key}' entry (a finished run's "
                        "last.pt keeps only the models; best.pt only the EMA generator)")
    return ck[key]


def load_module_state(module: torch.nn.Module, ck: dict[str, Any], key: str,
                      path: str | Path) -> None:
    """Load ``ck[key]`` into ``module``; the first missing, unexpected or mis-shaped tensor is a
    one-line DataError (torch's own error lists every tensor over dozens of lines)."""
    state, own = require(ck, key, path), module.state_dict()
    for name, tensor in own.items():
        if name not in state:
            raise DataError(f"{path}: {key}.{name} is missing from the checkpoint")
        if tuple(state[name].shape) != tuple(tensor.shape):
            raise DataError(f"{path}: {key}.{name} has shape {tuple(state[name].shape)} in the "
                            f"checkpoint, {tuple(tensor.shape)} in the model of this config")
    extra = sorted(set(state) - set(own))
    if extra:
        raise DataError(f"{path}: {key}.{extra[0]} in the checkpoint is not in the model of "
                        "this config")
    module.load_state_dict(state)


def load_optimizer_state(opt: torch.optim.Optimizer, ck: dict[str, Any], key: str,
                         path: str | Path) -> None:
    try:
        opt.load_state_dict(require(ck, key, path))
    except (ValueError, KeyError, RuntimeError) as e:
        first = first_line(e) or type(e).__name__
        raise DataError(f"{path}: {key} does not fit this config's optimiser: {first}") from None


def load_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``); a corrupt file is a one-line DataError.
    Training resumes load on the CPU (the default): ``load_state_dict`` copies weights and
    optimiser state to the models' device, and the RNG states must stay host tensors."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: checkpoint not found") from None
    except Exception as e:  # unpickling errors come in many types
        reason = f"{type(e).__name__}: {first_line(e)}"
        raise DataError(f"{path}: unreadable checkpoint ({reason})") from None
