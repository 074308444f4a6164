"""Suites on a real SLURM cluster (``slurm/local-cluster.sh start``): a suite becomes one job
array whose results have the same structure as a local run, and a task signalled with SIGUSR2
mid-way is checkpointed, requeued by submitit and resumes where it stopped. A data-parallel run
(``resources.tasks_per_node: 2``) is one job of 2 SLURM tasks, each exporting its rank; job
arrays of such runs train and finish with ``world_size: 2``, and requeue the same way.

Skipped, with the reason, when ``sinfo`` cannot reach a cluster."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ladabench.config.profiles import load_profile
from ladabench.core.io import read_jsonl
from ladabench.launch import make_executor, run_suite
from ladabench.launch.jobs import export_distributed_env
from ladabench.suite import load_suite
from waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "tests" / "suites" / "tiny.yaml"
PROFILE = REPO / "slurm" / "profiles" / "local.yaml"
#: a data-parallel run: one job of 2 SLURM tasks
TWO_TASKS = ["resources.tasks_per_node=2"]


def _cluster_problem() -> str | None:
    if shutil.which("sinfo") is None:
        return "sinfo not found (apt slurm-client; slurm/local-cluster.sh start installs it)"
    try:
        out = subprocess.run(["sinfo", "-h", "-p", "debug", "-o", "%a %T"], capture_output=True,
                             text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "sinfo timed out"
    if out.returncode != 0:
        return f"sinfo cannot reach a cluster: {(out.stderr.strip().splitlines() or [''])[-1]}"
    if not re.search(r"^up (idle|mixed|allocated)", out.stdout, re.M):
        return f"partition 'debug' has no usable node: {out.stdout.strip()!r}"
    return None


_PROBLEM = _cluster_problem()
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(_PROBLEM is not None,
                       reason=f"no SLURM cluster ({_PROBLEM}); run slurm/local-cluster.sh start"),
]


def job_ids(log: list[str]) -> dict[str, str]:
    """{run id: SLURM job id} from the launcher's 'submitted RUN as SLURM job ID' lines."""
    found = (re.fullmatch(r"submitted (\S+) as SLURM job (\S+)", line) for line in log)
    return {m.group(1): m.group(2) for m in found if m}


def relative_files(run_dir: Path) -> set[str]:
    return {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}


def test_job_array_results_match_a_local_run(tmp_path):
    log: list[str] = []
    slurm_root, local_root = tmp_path / "slurm", tmp_path / "local"
    assert run_suite(TINY, "slurm", profile=PROFILE, results_root=slurm_root, wait=True,
                     log=log.append) == 0
    suite = load_suite(TINY, results_root=slurm_root)
    ids = job_ids(log)
    assert sorted(ids) == sorted(r.run_id for r in suite.runs)
    arrays = {i.split("_")[0] for i in ids.values()}
    assert len(arrays) == 1, f"one job array expected, got {ids}"
    (array_id,) = arrays
    assert sorted(i.split("_")[1] for i in ids.values()) == ["0", "1"]

    assert run_suite(TINY, "debug", results_root=local_root, log=lambda s: None) == 0
    for run in suite.runs:
        s_dir, l_dir = run.run_dir, local_root / suite.name / run.run_id
        assert relative_files(s_dir) == relative_files(l_dir)
        s_sum, l_sum = (json.loads((d / "summary.json").read_text()) for d in (s_dir, l_dir))
        assert set(s_sum) == set(l_sum)
        for key in ("status", "run_id", "config_hash", "step", "images_seen", "params", "macs"):
            assert s_sum[key] == l_sum[key], key
        assert s_sum["status"] == "finished"
        assert (s_dir / "config.yaml").read_text() == (l_dir / "config.yaml").read_text()
        kinds = [[(r["kind"], r.get("event"), r["images_seen"]) for r in read_jsonl(d / "metrics.jsonl")]
                 for d in (s_dir, l_dir)]
        assert kinds[0] == kinds[1]
        slurm_env = json.loads((s_dir / "provenance.json").read_text())["slurm"]
        assert slurm_env["SLURM_ARRAY_JOB_ID"] == array_id
        assert f"{array_id}_{slurm_env['SLURM_ARRAY_TASK_ID']}" == ids[run.run_id]
        assert json.loads((l_dir / "provenance.json").read_text())["slurm"] == {}


@pytest.mark.parametrize("tasks", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_sigusr2_midway_requeues_and_resumes_from_the_checkpoint(tmp_path, tasks):
    """``tasks`` = 2: a data-parallel run, one job of 2 SLURM tasks; the signal reaches both,
    they stop at the same step, rank 0 checkpoints and requeues, both ranks resume."""
    sets = ["train.images=48", "train.checkpoint_every_images=48",
            f"resources.tasks_per_node={tasks}"]
    log: list[str] = []
    assert run_suite(TINY, "slurm", profile=PROFILE, only="lada", sets=sets, results_root=tmp_path,
                     wait=False, log=log.append) == 0
    (run,) = [r for r in load_suite(TINY, sets=sets, results_root=tmp_path).runs if "lada" in r.run_id]
    (job,) = job_ids(log).values()
    metrics = run.run_dir / "metrics.jsonl"

    def trained() -> list[int]:
        if not metrics.exists():
            return []
        return [r["images_seen"] for r in read_jsonl(metrics) if r["kind"] == "train"]

    wait_for(lambda: trained(), 240, "the first train line")
    subprocess.run(["scancel", "--signal=USR2", job], check=True)
    wait_for(lambda: json.loads((run.run_dir / "summary.json").read_text())["status"]
             in ("finished", "failed"), 400, "the requeued task to finish")

    records = read_jsonl(metrics)
    (requeue,) = [r for r in records if r.get("event") == "requeue"]  # from rank 0 only
    (resume,) = [r for r in records if r.get("event") == "resume"]
    stopped = requeue["images_seen"]
    assert 0 < stopped < 48
    assert resume["images_seen"] == stopped  # resumed from the checkpoint, not from 0
    checkpoints = [r["images_seen"] for r in records if r.get("event") == "checkpoint"]
    assert checkpoints[0] == stopped
    images = trained()
    assert images == sorted(set(images)) and images[-1] == 48  # images seen continue
    final = json.loads((run.run_dir / "summary.json").read_text())
    assert (final["status"], final["images_seen"], final.get("world_size", 1)) == (
        "finished", 48, tasks)
    prov = json.loads((run.run_dir / "provenance.json").read_text())
    assert prov["slurm"]["SLURM_RESTART_COUNT"] == "1"

    def sacct_state() -> str:
        return subprocess.run(["sacct", "-n", "-P", "-X", "-j", job, "-o", "State"],
                              capture_output=True, text=True).stdout.strip()

    wait_for(lambda: sacct_state() not in ("", "RUNNING", "PENDING", "REQUEUED"), 60, "job end",
             poll=0.5)
    assert sacct_state() == "COMPLETED"
    assert yaml.safe_load((run.run_dir / "config.yaml").read_text())["train"]["images"] == 48


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
        s = json.loads((run.run_dir / "summary.json").read_text())
        assert (s["status"], s["images_seen"], s["world_size"]) == ("finished", 8, 2)
        array_id, task = ids[run.run_id].split("_")
        slurm_env = json.loads((run.run_dir / "provenance.json").read_text())["slurm"]
        assert (slurm_env["SLURM_ARRAY_JOB_ID"], slurm_env["SLURM_ARRAY_TASK_ID"]) == (array_id, task)
