"""Run a function on N real processes joined in a gloo process group (torch.multiprocessing
spawn; the environment of a launcher: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT). Each
rank's return value comes back through a file (``torch.save``)."""
from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any, Callable

import torch
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launcher_env(rank: int, world: int, port: int) -> dict[str, str]:
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}


def _worker(rank: int, world: int, port: int, out: str, path: list[str], fn: Callable,
            args: tuple) -> None:
    sys.path[:0] = [p for p in path if p not in sys.path]
    os.environ.update(launcher_env(rank, world, port), OMP_NUM_THREADS="1")
    torch.set_num_threads(1)
    torch.save(fn(*args), Path(out) / f"rank{rank}.pt")


def on_ranks(world: int, tmp: Path, fn: Callable, *args: Any) -> list[Any]:
    """``[fn(*args) on rank r for r in range(world)]``, each in its own spawned process with the
    launcher environment set (``fn`` is a module-level function)."""
    tmp.mkdir(parents=True, exist_ok=True)
    mp.start_processes(_worker, args=(world, free_port(), str(tmp), list(sys.path), fn, args),
                       nprocs=world, start_method="spawn")
    return [torch.load(tmp / f"rank{r}.pt", weights_only=False) for r in range(world)]
