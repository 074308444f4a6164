"""Data-parallel runs on a real SLURM cluster (``slurm/local-cluster.sh start``): a run of
``resources.tasks_per_node: 2`` is one job of 2 SLURM tasks, each exporting its rank; a job
array of such runs trains and finishes with ``world_size: 2``; SIGUSR2 stops every rank at the
same step, the job is requeued from rank 0 and all ranks resume from its checkpoint.

Skipped, with the reason, when ``sinfo`` cannot reach a cluster."""
from __future__ import annotations

import json
import subprocess

from ladabench.config.profiles import load_profile
from ladabench.core.io import read_jsonl
from ladabench.launch import make_executor, run_suite
from ladabench.launch.jobs import export_distributed_env
from ladabench.suite import load_suite
from slurm.test_slurm_suite import PROFILE, TINY, job_ids, pytestmark  # noqa: F401 (the marks)
from waiting import wait_for

TWO_TASKS = ["resources.tasks_per_node=2"]


def summary(run_dir) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_each_task_of_a_two_task_job_exports_its_rank(tmp_path):
    suite = load_suite(TINY, sets=TWO_TASKS, results_root=tmp_path)
    job = make_executor("slurm", suite, load_profile(PROFILE)).submit(
        lambda: export_distributed_env(2))  # a lambda travels by value (cloudpickle)
    tasks = job.results()
    assert [(t["RANK"], t["LOCAL_RANK"], t["WORLD_SIZE"]) for t in tasks] == [
        ("0", "0", "2"), ("1", "1", "2")]
    # the rendezvous: the allocation's first node, one port for the job
    assert {(t["MASTER_ADDR"], t["MASTER_PORT"]) for t in tasks} == {
        ("localhost", tasks[0]["MASTER_PORT"])}


def test_job_array_of_two_task_runs_trains_and_finishes(tmp_path):
    log: list[str] = []
    assert run_suite(TINY, "slurm", profile=PROFILE, sets=TWO_TASKS, results_root=tmp_path,
                     wait=True, log=log.append) == 0
    ids = job_ids(log)
    assert len({i.split("_")[0] for i in ids.values()}) == 1, f"one job array expected: {ids}"
    for run in load_suite(TINY, sets=TWO_TASKS, results_root=tmp_path).runs:
        s = summary(run.run_dir)
        assert (s["status"], s["images_seen"], s["world_size"]) == ("finished", 8, 2)
        array_id, task = ids[run.run_id].split("_")
        slurm_env = json.loads((run.run_dir / "provenance.json").read_text())["slurm"]
        assert (slurm_env["SLURM_ARRAY_JOB_ID"], slurm_env["SLURM_ARRAY_TASK_ID"]) == (array_id, task)


def test_sigusr2_requeues_a_two_task_run_and_every_rank_resumes(tmp_path):
    sets = [*TWO_TASKS, "train.images=48", "train.checkpoint_every_images=48"]
    log: list[str] = []
    assert run_suite(TINY, "slurm", profile=PROFILE, only="lada", sets=sets,
                     results_root=tmp_path, wait=False, log=log.append) == 0
    (run,) = [r for r in load_suite(TINY, sets=sets, results_root=tmp_path).runs
              if "lada" in r.run_id]
    (job,) = job_ids(log).values()
    metrics = run.run_dir / "metrics.jsonl"

    def trained() -> list[int]:
        if not metrics.exists():
            return []
        return [r["images_seen"] for r in read_jsonl(metrics) if r["kind"] == "train"]

    wait_for(lambda: trained(), 240, "the first train line")
    subprocess.run(["scancel", "--signal=USR2", job], check=True)  # to every task
    wait_for(lambda: summary(run.run_dir)["status"] in ("finished", "failed"), 400,
             "the requeued job to finish")

    records = read_jsonl(metrics)
    (requeue,) = [r for r in records if r.get("event") == "requeue"]  # from rank 0 only
    (resume,) = [r for r in records if r.get("event") == "resume"]
    stopped = requeue["images_seen"]
    assert 0 < stopped < 48 and resume["images_seen"] == stopped
    images = trained()
    assert images == sorted(set(images)) and images[-1] == 48
    final = summary(run.run_dir)
    assert (final["status"], final["images_seen"], final["world_size"]) == ("finished", 48, 2)
    prov = json.loads((run.run_dir / "provenance.json").read_text())
    assert prov["slurm"]["SLURM_RESTART_COUNT"] == "1"
