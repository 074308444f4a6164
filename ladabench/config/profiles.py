"""SLURM cluster profiles (``slurm/profiles/*.yaml``): where and how a suite's job array runs.

A suite says what one run needs (``resources``: gpus, cpus, mem_gb, time_min, nodes,
tasks_per_node: a data-parallel run is one SLURM job of several tasks); a profile says
how the cluster is addressed (partition, account, qos, constraint, extra sbatch options, setup
lines) and may cap the time limit: a run longer than ``max_time_min`` is checkpointed at the
limit (SIGUSR2) and requeued, up to ``max_num_timeout`` times.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from pydantic import Field

from ladabench.core.schema import StrictModel, load_yaml, parse_model


class SlurmProfile(StrictModel):
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    constraint: str | None = None
    #: cap on one job's time limit (the partition's MaxTime); None = the suite's time_min
    max_time_min: int | None = Field(default=None, gt=0)
    #: how many array tasks may run at once
    array_parallelism: int = Field(default=256, gt=0)
    #: SIGUSR2 this many seconds before the time limit (a checkpoint must fit in it)
    signal_delay_s: int = Field(default=120, ge=0)
    #: requeues after time limits before a run counts as failed (preemptions are unlimited)
    max_num_timeout: int = Field(default=3, ge=0)
    #: shell lines run before the job (e.g. ``module load cuda``, ``source .venv/bin/activate``)
    setup: list[str] = Field(default_factory=list)
    #: extra sbatch options, without the leading ``--`` (e.g. ``{mail-type: FAIL}``)
    additional: dict[str, Any] = Field(default_factory=dict)
    #: submitit's log/pickle folder; must be on a file system the nodes share
    #: (default ``<results>/<suite>/.submitit``)
    folder: str | None = None


def load_profile(path: str | Path | None) -> SlurmProfile:
    """The profile file at ``path`` (None = all defaults: the cluster's default partition)."""
    if path is None:
        return SlurmProfile()
    return parse_model(SlurmProfile, load_yaml(path), str(path))


class RunResources(Protocol):
    """What one run asks for (a suite's ``resources``): ``gpus`` and ``mem_gb`` per node,
    ``cpus`` per process, ``nodes`` x ``processes_per_node`` processes."""

    gpus: int
    cpus: int
    mem_gb: float
    time_min: int
    nodes: int

    @property
    def processes_per_node(self) -> int: ...


def slurm_parameters(profile: SlurmProfile, res: RunResources, name: str) -> dict[str, Any]:
    """``AutoExecutor.update_parameters`` keywords for one suite's job array: each array task
    is one run, a job of ``res.nodes`` x ``res.processes_per_node`` SLURM tasks."""
    limit = min(res.time_min, profile.max_time_min) if profile.max_time_min else res.time_min
    params: dict[str, Any] = {
        "name": name, "timeout_min": limit, "cpus_per_task": res.cpus, "mem_gb": res.mem_gb,
        "nodes": res.nodes, "tasks_per_node": res.processes_per_node,
        "slurm_array_parallelism": profile.array_parallelism,
        "slurm_signal_delay_s": profile.signal_delay_s,
        "slurm_setup": list(profile.setup),
        "slurm_additional_parameters": dict(profile.additional),
    }
    if res.gpus:
        params["gpus_per_node"] = res.gpus
    for key in ("partition", "account", "qos", "constraint"):
        if getattr(profile, key) is not None:
            params[f"slurm_{key}"] = getattr(profile, key)
    return params
