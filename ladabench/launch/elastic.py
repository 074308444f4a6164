"""``ladabench train CONFIG --nproc N``: one run as N local processes, started by torch's
elastic launcher (torchrun's engine: a standalone rendezvous on a free port, one worker per
rank with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT set, no restarts). Each
worker is an ordinary ``ladabench train`` process; ``ladabench.train.distributed`` joins them.

When a worker dies the launcher stops the others (SIGTERM, then SIGKILL after
``SHUTDOWN_TIMEOUT_S``); a SIGTERM or SIGINT sent to the launcher goes to every worker, which
checkpoints at the next step boundary. Either way the run directory's ``summary.json`` tells
how the run ended.
"""
from __future__ import annotations

import os
import sys
import uuid

from ladabench.core.errors import ConfigError

#: seconds the workers get to checkpoint after the launcher passed them a stop signal
SHUTDOWN_TIMEOUT_S = 120


def worker_threads(nproc: int) -> int:
    """Torch threads per worker: the cores this process may use, shared out (at least 1)."""
    from ladabench.data.decoded import available_cores

    return max(1, available_cores() // nproc)


def failed_ranks(error: BaseException) -> str:
    """``rank 1 (exit code -9)``, ... of an elastic ChildFailedError (its ``failures``)."""
    failures = getattr(error, "failures", {}) or {}
    return ", ".join(f"rank {rank} (exit code {failure.exitcode})"
                     for rank, failure in sorted(failures.items()))


def check_gpus(device: str, nproc: int) -> None:
    """A CUDA run takes one GPU per process: ``nproc`` must not exceed the visible GPUs (a
    rank without one would leave the others waiting at the rendezvous)."""
    import torch

    if device == "cpu" or not torch.cuda.is_available():
        return
    count = torch.cuda.device_count()
    if nproc > count:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise ConfigError(f"--nproc: {nproc} processes on CUDA need one GPU each, {count} are "
                          f"visible (CUDA_VISIBLE_DEVICES={visible!r})")


def launch_local(argv: list[str], nproc: int) -> str | None:
    """Run ``python -m ladabench <argv>`` as ``nproc`` ranks of one process group; return None
    when every rank exited 0, else a one-line account of the ranks that did not."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    # one process per core share, as torchrun does: N workers × all cores would oversubscribe
    os.environ.setdefault("OMP_NUM_THREADS", str(worker_threads(nproc)))
    config = LaunchConfig(
        min_nodes=1, max_nodes=1, nproc_per_node=nproc, run_id=f"ladabench-{uuid.uuid4().hex}",
        rdzv_backend="c10d", rdzv_endpoint="localhost:0", max_restarts=0,
        monitor_interval=0.5, shutdown_timeout=SHUTDOWN_TIMEOUT_S,
    )
    try:
        elastic_launch(config, sys.executable)("-m", "ladabench", *argv)
    except ChildFailedError as e:
        return f"{failed_ranks(e) or 'a rank'} failed"
    except SignalException as e:
        return f"stopped by {e.sigval.name}"
    return None

