"""What a task of a data-parallel run does before training: export its place in the job as the
``torch.distributed`` environment (submitit's ``TorchDistributedEnvironment``), checked through
the local executor's real multi-task jobs; and how the launcher reads a multi-task job's result
(task 0's)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ladabench.launch import RunJob, make_executor
from ladabench.launch.jobs import DISTRIBUTED_ENV, export_distributed_env, job_outcome
from ladabench.suite import load_suite

TINY = Path(__file__).resolve().parents[1] / "suites" / "tiny.yaml"


def test_each_task_of_a_local_job_exports_its_rank(tmp_path, monkeypatch):
    """Two tasks, two GPUs: ranks 0 and 1 share one rendezvous; the inherited ``RANK`` of the
    submitting process is replaced; both tasks keep seeing both GPUs (each trains on
    cuda:LOCAL_RANK, so the export must not narrow CUDA_VISIBLE_DEVICES to one)."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "4,6")
    monkeypatch.setenv("RANK", "7")
    suite = load_suite(TINY, sets=["resources.gpus=2"], results_root=tmp_path)
    assert suite.resources.world_size == 2
    # a lambda travels by value (cloudpickle); what it calls is imported in the task
    job = make_executor("local", suite, None).submit(lambda: {
        **export_distributed_env(2), "CUDA_VISIBLE_DEVICES": os.environ["CUDA_VISIBLE_DEVICES"]})
    tasks = job.results()
    assert [(t["RANK"], t["LOCAL_RANK"]) for t in tasks] == [("0", "0"), ("1", "1")]
    assert {(t["WORLD_SIZE"], t["LOCAL_WORLD_SIZE"]) for t in tasks} == {("2", "2")}
    assert {(t["MASTER_ADDR"], t["MASTER_PORT"]) for t in tasks} == {
        (socket.gethostname(), tasks[0]["MASTER_PORT"])}
    assert 20000 <= int(tasks[0]["MASTER_PORT"]) <= 60000
    assert {t["CUDA_VISIBLE_DEVICES"] for t in tasks} == {"4,6"}
    assert set(tasks[0]) == {*DISTRIBUTED_ENV, "CUDA_VISIBLE_DEVICES"}


def test_a_job_of_another_size_than_the_run_is_an_error(tmp_path):
    suite = load_suite(TINY, sets=["resources.tasks_per_node=2"], results_root=tmp_path)
    job = make_executor("local", suite, None).submit(lambda: export_distributed_env(4))
    error = job.exception()
    assert error is not None
    assert "resources: expected a job of 4 tasks (nodes x tasks_per_node), this job has 2" in str(error)


def test_a_requeued_run_job_keeps_its_world_size(tmp_path):
    job = RunJob(str(tmp_path), {}, (), threads=1, world_size=4)
    assert job.checkpoint().function.world_size == 4


class _Tasks:
    """A finished job with one result per task."""

    def __init__(self, *results: dict) -> None:
        self._results = list(results)

    def results(self) -> list[dict]:
        return self._results


def test_the_launcher_reads_task_0s_result():
    """Rank 0 trained the run and wrote its summary; the other ranks return what their trainer
    returned (e.g. a stale status from before a requeue)."""
    assert job_outcome(_Tasks({"status": "finished"}, {"status": "interrupted"})) == "finished"
    assert job_outcome(_Tasks({"status": "diverged"})) == "diverged"


@pytest.mark.parametrize("tasks", [1, 2])
def test_a_run_another_launch_took_meanwhile_is_busy_not_failed(tmp_path, tasks):
    """Two launches of one suite at the same moment both plan to start a run; the job that finds
    the other's trainer holding it reports ``busy`` with the owner (it was ``failed``, exit 1),
    also from a data-parallel job, whose other ranks hear it from rank 0."""
    suite = load_suite(TINY, results_root=tmp_path, sets=[f"resources.tasks_per_node={tasks}"])
    run = suite.runs[0]
    hold = ("import sys, time; from pathlib import Path; from ladabench.core.rundir import "
            "RunDir, RunLock; lock = RunLock(RunDir(Path(sys.argv[1]))).__enter__(); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold, str(run.run_dir)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        job = make_executor("local", suite, None).submit(RunJob(
            str(run.run_dir), run.config.to_dict(), suite.plugins, threads=1, world_size=tasks))
        outcome = job_outcome(job, run.run_dir)
    finally:
        holder.kill()
        holder.wait()
    assert outcome == (
        f"busy: {run.run_dir}: another process trains in this run directory (pid {holder.pid} "
        f"on {socket.gethostname()}); wait for it or stop it first")
