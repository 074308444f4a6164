"""Where a result came from (architecture.md contract 3, ``provenance.json``): code version,
package versions, machine, device, the CUDA stack and its precision settings, scheduler ids,
seed and config hash."""
from __future__ import annotations

import os
import platform
import re
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

PACKAGES = (
    "ladabench", "torch", "torchvision", "numpy", "torch-fidelity", "fvcore", "pydantic",
    "submitit", "pandas", "mlxtend",
)
SLURM_VARS = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_RESTART_COUNT")
_REPO = Path(__file__).resolve().parents[2]
_NVIDIA_DRIVER = Path("/proc/driver/nvidia/version")


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=_REPO, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def git_info() -> dict[str, Any]:
    """``{"commit": sha | None, "dirty": bool | None}`` of the checkout ladabench runs from.

    ``dirty`` counts modified tracked files only (untracked files do not change the code run).
    """
    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def device_name(device: torch.device | str) -> str:
    """A human-readable name of ``device`` (GPU model, or the CPU model and thread count)."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu} ({torch.get_num_threads()} threads)"


def driver_version() -> str | None:
    """The NVIDIA kernel driver's version (``NVRM version: ... Kernel Module  580.65.06 ...``),
    None without one."""
    try:
        first = _NVIDIA_DRIVER.read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    found = re.search(r"Kernel Module.*?\s(\d+\.\d+(?:\.\d+)?)(\s|$)", first)
    return found.group(1) if found else None


def cuda_stack() -> dict[str, Any]:
    """What can change a CUDA number besides the code: toolkit, driver, cuDNN, the TF32 flags in
    effect, and which GPUs the process was given (``CUDA_VISIBLE_DEVICES``)."""
    available = torch.cuda.is_available()
    return {
        "cuda": torch.version.cuda if available else None,
        "driver": driver_version() if available else None,
        "cudnn": torch.backends.cudnn.version() if available else None,
        "tf32": {"matmul": torch.backends.cuda.matmul.allow_tf32,
                 "cudnn": torch.backends.cudnn.allow_tf32},
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
    }


def collect_provenance(device: torch.device | str, seed: int, config_hash: str) -> dict[str, Any]:
    """The provenance record of one training/measurement session."""
    return {
        "git": git_info(),
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "device": str(device),
        "device_name": device_name(device),
        **cuda_stack(),
        "slurm": {k: os.environ[k] for k in SLURM_VARS if k in os.environ},
        "seed": seed,
        "config_hash": config_hash,
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
