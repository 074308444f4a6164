"""One run on several processes (data parallel, docs/distributed.md): the process group and the
few collectives the trainer needs besides the gradients'.

The contract with every launcher (``ladabench train --nproc``, torchrun, submitit's
``TorchDistributedEnvironment().export()`` in a SLURM task): the standard torch.distributed
environment variables ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``. ``train.run`` reads them: with ``WORLD_SIZE`` > 1 the process joins a process
group for the run (gloo on a CPU; NCCL on CUDA, one GPU per process: ``cuda:LOCAL_RANK``) and
leaves it at the end; without them (or ``WORLD_SIZE=1``) the run is the plain single-process
one. A process group that the caller initialised already is used as it is and left alone.

Control traffic (stop flags, random-state gathering, rank 0's evaluations) goes through a gloo
group on the CPU even when the gradients use NCCL: a flag read on the host every step then never
waits for the GPU's queue.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Iterator

import torch
import torch.distributed as dist

from ladabench.core.errors import ConfigError
from ladabench.device import resolve_device

#: what a launcher sets (torchrun's names); RANK, WORLD_SIZE and LOCAL_RANK are integers
ENV_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
#: seconds a collective waits for the other ranks before the run fails (a rank that hangs, or
#: rank 0's evaluation while the others wait); a rank that dies is noticed at once
TIMEOUT_ENV = "LADABENCH_DIST_TIMEOUT_S"
DEFAULT_TIMEOUT_S = 3600


@dataclass(frozen=True)
class DistContext:
    """Where this process stands in the run: ``rank`` of ``world_size`` processes, ``local_rank``
    on its node, the gradients' ``backend`` (None: no process group, a single process)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None
    #: the CPU (gloo) group of the control traffic; None without a process group
    control: Any = field(default=None, compare=False, repr=False)

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes the run directory."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """A process group exists (also at world size 1 when the caller made one)."""
        return self.backend is not None

    def max(self, *values: int) -> list[int]:
        """Each value's maximum over the ranks: every rank gets the same answer (stop
        decisions, e.g. a flag or a signal number that one rank received)."""
        if not self.active:
            return list(values)
        t = torch.tensor(values, dtype=torch.int64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.control)
        return t.tolist()

    def broadcast(self, obj: Any) -> Any:
        """Rank 0's ``obj`` on every rank (a picklable value)."""
        if not self.active:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0, group=self.control)
        return box[0]

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj`` in rank order, on every rank."""
        if not self.active:
            return [obj]
        out: list[Any] = [None] * self.world_size
        dist.all_gather_object(out, obj, group=self.control)
        return out

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """The mean of ``tensor`` over the ranks (on its device, through the gradients' group)."""
        if not self.active or self.world_size == 1:
            return tensor
        out = tensor.clone()
        dist.all_reduce(out)
        return out / self.world_size

    def wait_for_main(self) -> None:
        """Every rank waits here until rank 0 arrives (e.g. after its evaluation)."""
        if self.active:
            dist.barrier(group=self.control)


SINGLE = DistContext()


def _env_int(name: str, default: int | None) -> int:
    text = os.environ.get(name)
    if text is None:
        if default is None:
            raise ConfigError(f"{name}: not set; WORLD_SIZE asks for a distributed run, which "
                              "needs all of " + ", ".join(ENV_VARS), source="environment")
        return default
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name}: expected an integer, got {text!r}",
                          source="environment") from None


def env_ranks() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from the environment; ``(0, 1, 0)`` when unset."""
    world = _env_int("WORLD_SIZE", 1)
    if world < 1:
        raise ConfigError(f"WORLD_SIZE: expected at least 1, got {world}", source="environment")
    if world == 1:
        return 0, 1, 0
    rank, local = _env_int("RANK", None), _env_int("LOCAL_RANK", None)
    if not 0 <= rank < world:
        raise ConfigError(f"RANK: expected 0 ... {world - 1} (WORLD_SIZE={world}), got {rank}",
                          source="environment")
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not os.environ.get(name):
            _env_int(name, None)  # the one-line "not set" error
    return rank, world, local


def timeout_s() -> float:
    """The collective timeout (``LADABENCH_DIST_TIMEOUT_S``, default one hour)."""
    text = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_S))
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"{TIMEOUT_ENV}: expected seconds > 0, got {text!r}",
                          source="environment")
    return value


def rank_device(setting: str, local_rank: int) -> torch.device:
    """This rank's device: one GPU per process (``cuda:LOCAL_RANK``) for ``auto`` / ``cuda`` on
    a machine with CUDA, else the CPU. A setting that names one GPU cannot be shared."""
    device = resolve_device(setting)
    if device.type != "cuda":
        return device
    if device.index is not None:
        raise ConfigError(f"train.device: {setting!r} names one GPU, but a distributed run uses "
                          "one GPU per process (cuda:LOCAL_RANK): set cuda or auto")
    return resolve_device(f"cuda:{local_rank}")


def _joined(device: torch.device) -> DistContext:
    """The context of a process group that exists already."""
    backend = dist.get_backend()
    local = int(os.environ.get("LOCAL_RANK", device.index or 0))
    control = dist.new_group(backend="gloo") if backend != "gloo" else dist.group.WORLD
    return DistContext(dist.get_rank(), dist.get_world_size(), local, backend, control)


@contextmanager
def process_group(setting: str) -> Iterator[tuple[DistContext, torch.device]]:
    """This process's place in the run and its device (``train.device`` = ``setting``), with a
    process group for the block when the environment asks for one (module docstring)."""
    if dist.is_available() and dist.is_initialized():
        device = rank_device(setting, int(os.environ.get("LOCAL_RANK", 0)))
        yield _joined(device), device
        return
    rank, world, local = env_ranks()
    if world == 1:
        yield SINGLE, resolve_device(setting)
        return
    device = rank_device(setting, local)
    backend = "nccl" if device.type == "cuda" else "gloo"
    timeout = timedelta(seconds=timeout_s())
    dist.init_process_group(backend, rank=rank, world_size=world, timeout=timeout,
                            device_id=device if device.type == "cuda" else None)
    try:
        control = dist.new_group(backend="gloo", timeout=timeout) if backend != "gloo" \
            else dist.group.WORLD
        yield DistContext(rank, world, local, backend, control), device
    finally:
        dist.destroy_process_group()


@contextmanager
def single_rank_group(device: torch.device) -> Iterator[DistContext]:
    """A process group of this process alone (world size 1, an in-memory store), with the
    backend a run on ``device`` would use: what the distributed code paths cost without any
    peer (``ladabench bench --ddp-overhead``)."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1,
                            device_id=device if device.type == "cuda" else None)
    try:
        yield _joined(device)
    finally:
        dist.destroy_process_group()

