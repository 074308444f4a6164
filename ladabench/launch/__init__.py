"""Launching suites through submitit (local, debug, SLURM job arrays with requeue) and showing
the state of their runs."""
from ladabench.launch.jobs import RunJob, ScalingJob
from ladabench.launch.launcher import launch, local_threads, make_executor, run_suite
from ladabench.launch.plan import Planned, plan
from ladabench.launch.status import show_status

__all__ = ["Planned", "RunJob", "ScalingJob", "launch", "local_threads", "make_executor", "plan",
           "run_suite", "show_status"]
