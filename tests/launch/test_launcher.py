"""Launching through submitit with real (tiny) training runs: a suite run twice is a no-op the
second time, a run killed mid-way resumes from its checkpoint, and SIGUSR2 makes a RunJob stop
at a step boundary, hand over to submitit's requeue handler and continue when resubmitted."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ladabench.core.io import read_jsonl
from ladabench.core.rundir import RunDir, RunLockedError, write_summary
from ladabench.launch import RunJob, run_suite
from ladabench.launch.status import show_status
from ladabench.suite import load_suite
from core.test_rundir import HOLD
from waiting import wait_for

TINY = Path(__file__).resolve().parents[1] / "suites" / "tiny.yaml"


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def events(run_dir: Path, name: str) -> list[dict]:
    return [r for r in read_jsonl(run_dir / "metrics.jsonl") if r.get("event") == name]


def train_images(run_dir: Path) -> list[int]:
    return [r["images_seen"] for r in read_jsonl(run_dir / "metrics.jsonl") if r["kind"] == "train"]


def files(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("*")
            if p.is_file() and ".submitit" not in p.parts}


def test_local_suite_run_twice_second_is_a_noop(tmp_path):
    results = tmp_path / "results"
    log: list[str] = []
    assert run_suite(TINY, "local", max_parallel=2, results_root=results, log=log.append) == 0
    suite = load_suite(TINY, results_root=results)
    for run in suite.runs:
        s = summary(run.run_dir)
        assert (s["status"], s["images_seen"], s["run_id"]) == ("finished", 8, run.run_id)
        assert s["config_hash"] == run.config.config_hash()
        assert train_images(run.run_dir) == [4, 8]
    before = files(results)
    log.clear()
    assert run_suite(TINY, "local", max_parallel=2, results_root=results, log=log.append) == 0
    assert log == [f"finished  {r.run_id} (skipped)" for r in suite.runs] + ["0 runs launched, 0 failed"]
    assert files(results) == before


def test_a_two_process_run_through_the_local_executor(tmp_path):
    """One submitit job of 2 tasks on this machine (gloo): rank 0 alone writes the run folder,
    every train line once, and the summary records the world size."""
    results = tmp_path / "results"
    sets = ["resources.tasks_per_node=2"]
    assert run_suite(TINY, "local", only="lada", sets=sets, results_root=results,
                     log=lambda s: None) == 0
    (run,) = [r for r in load_suite(TINY, sets=sets, results_root=results).runs
              if "lada" in r.run_id]
    s = summary(run.run_dir)
    assert (s["status"], s["images_seen"], s["world_size"]) == ("finished", 8, 2)
    assert train_images(run.run_dir) == [4, 8]


def _task_pid(folder: Path, rank: int) -> int | None:
    """The process of task ``rank`` of a local submitit job whose folder is ``folder``."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline, environ = (proc / "cmdline").read_bytes(), (proc / "environ").read_bytes()
        except OSError:  # ended meanwhile
            continue
        if str(folder).encode() in cmdline and f"SUBMITIT_LOCAL_GLOBALID={rank}\0".encode() in environ:
            return int(proc.name)
    return None


def _kill_task_after_a_checkpoint(results: Path, sets: list[str], rank: int):
    """``ladabench run`` of the tiny suite's lada run (local executor) with SIGKILL sent to
    its task ``rank`` after the first checkpoint; the run, the exit code and the output."""
    (run,) = [r for r in load_suite(TINY, sets=sets, results_root=results).runs
              if "lada" in r.run_id]
    args = [arg for s in sets for arg in ("--set", s)]
    proc = subprocess.Popen([sys.executable, "-m", "ladabench", "run", str(TINY), "--only", "lada",
                             "--quiet", "--results", str(results), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: (run.run_dir / "metrics.jsonl").exists()
                 and events(run.run_dir, "checkpoint"), 240, "the first checkpoint")
        os.kill(_task_pid(results / run.config.suite / ".submitit", rank), signal.SIGKILL)
        out, _ = proc.communicate(timeout=180)
    finally:
        proc.kill()
    return run, proc.returncode, out


@pytest.mark.slow
def test_a_killed_rank_fails_the_run_and_a_rerun_resumes(tmp_path):
    """SIGKILL to rank 1 of a 2-process local job: ``ladabench run`` ends (no hang) with the
    run failed and its error printed; the checkpoint is intact and the next launch resumes."""
    results = tmp_path / "results"
    sets = ["resources.tasks_per_node=2", "train.images=400", "train.checkpoint_every_images=8"]
    run, code, out = _kill_task_after_a_checkpoint(results, sets, rank=1)
    assert code == 1, out
    failed = summary(run.run_dir)
    assert failed["status"] == "failed" and failed["error"]
    assert f"failed    {run.run_id}: {failed['error']}" in out
    stopped = failed["last_checkpoint"]["images_seen"]
    assert 0 < stopped < 400

    assert run_suite(TINY, "local", only="lada", sets=sets, results_root=results,
                     log=lambda s: None) == 0
    (resume,) = events(run.run_dir, "resume")
    assert resume["images_seen"] == stopped
    final = summary(run.run_dir)
    assert (final["status"], final["images_seen"], final["world_size"]) == ("finished", 400, 2)


@pytest.mark.slow
def test_ddp_smoke_suite_trains_as_two_processes(tmp_path):
    """``ladabench run suites/ddp_smoke.yaml`` as documented (a few minutes on 2 cores)."""
    suite = Path(__file__).resolve().parents[2] / "suites" / "ddp_smoke.yaml"
    results = tmp_path / "results"
    assert subprocess.run([sys.executable, "-m", "ladabench", "run", str(suite), "--quiet",
                           "--results", str(results)]).returncode == 0
    (run,) = load_suite(suite, results_root=results).runs
    s = summary(run.run_dir)
    assert (s["status"], s["images_seen"], s["world_size"]) == ("finished", 2048, 2)
    assert s["final"]["fid"]["value"] > 0


@pytest.mark.slow
def test_a_killed_job_is_reported_interrupted_with_its_checkpoint_and_exit_1(tmp_path):
    """SIGKILL to a local job's trainer: no result, a summary that still says ``running``, no
    live owner; ``run`` says where the next launch resumes (not submitit's log lines as an
    error) and exits 1: the run did not complete."""
    run, code, out = _kill_task_after_a_checkpoint(
        tmp_path / "results", ["train.images=400", "train.checkpoint_every_images=8"], rank=0)
    assert code == 1, out
    ck = summary(run.run_dir)["last_checkpoint"]
    assert re.search(rf"interrupted {run.run_id} \(.*\): the job ended without a result "
                     rf"\(killed\?\); the next launch resumes from the last checkpoint, step "
                     rf"{ck['step']} \({ck['images_seen']:,} images\)\n", out), out
    assert out.endswith("1 run launched, 0 failed, 1 interrupted\n"), out


@pytest.mark.slow
def test_run_killed_midway_resumes_on_the_next_run(tmp_path):
    results = tmp_path / "results"
    args = ["--only", "lada", "--set", "train.images=32", "--results", str(results)]
    (run,) = load_suite(TINY, sets=["train.images=32"], results_root=results).runs[:1]
    proc = subprocess.Popen([sys.executable, "-m", "ladabench.cli", "run", str(TINY),
                             "--executor", "debug", *args], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: (run.run_dir / "metrics.jsonl").exists()
                 and events(run.run_dir, "checkpoint"), 180, "the first checkpoint")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    killed = summary(run.run_dir)
    assert killed["status"] == "running"  # SIGKILL: nobody could write anything else
    checkpointed = events(run.run_dir, "checkpoint")[-1]["images_seen"]
    assert 0 < checkpointed < 32

    assert run_suite(TINY, "debug", only="lada", sets=["train.images=32"],
                     results_root=results, log=lambda s: None) == 0
    (resume,) = events(run.run_dir, "resume")
    assert resume["images_seen"] >= checkpointed > 0
    after = [r["images_seen"] for r in read_jsonl(run.run_dir / "metrics.jsonl")
             if r["kind"] == "train" and r["wall_time_s"] >= resume["wall_time_s"]]
    assert after and after[0] > resume["images_seen"] and after[-1] == 32
    assert summary(run.run_dir)["status"] == "finished"


def test_sigusr2_checkpoints_hands_over_to_submitit_and_resumes(tmp_path):
    """In-process version of the SLURM requeue path: the handler submitit installed before the
    job (here a recorder) is called once the trainer has stopped at a step boundary."""
    (run,) = load_suite(TINY, sets=["train.images=32", "train.checkpoint_every_images=32"],
                        results_root=tmp_path).runs[:1]
    job = RunJob(str(run.run_dir), run.config.to_dict(), load_suite(TINY).plugins)
    handed_over: list[int] = []
    previous = signal.signal(signal.SIGUSR2, lambda signum, frame: handed_over.append(signum))

    def send_when_training() -> None:
        wait_for(lambda: (run.run_dir / "metrics.jsonl").exists()
                 and train_images(run.run_dir), 180, "the first train line")
        os.kill(os.getpid(), signal.SIGUSR2)

    sender = threading.Thread(target=send_when_training)
    try:
        sender.start()
        first = job()
        sender.join()
    finally:
        signal.signal(signal.SIGUSR2, previous)
    assert first["status"] == "interrupted" and handed_over == [signal.SIGUSR2]
    stopped_at = first["images_seen"]
    assert 0 < stopped_at < 32 and stopped_at % 4 == 0  # a step boundary
    assert events(run.run_dir, "checkpoint")[-1]["images_seen"] == stopped_at

    delayed = job.checkpoint()
    (requeue,) = events(run.run_dir, "requeue")
    assert requeue["images_seen"] == stopped_at
    assert isinstance(delayed.function, RunJob) and delayed.function is not job
    final = delayed.function(*delayed.args, **delayed.kwargs)
    assert final["status"] == "finished" and final["images_seen"] == 32
    (resume,) = events(run.run_dir, "resume")
    assert resume["images_seen"] == stopped_at
    assert train_images(run.run_dir) == sorted(set(train_images(run.run_dir)))


def test_force_restarts_from_scratch(tmp_path, executor="debug"):
    results = tmp_path / "results"
    kw = dict(only="swin", results_root=results, log=lambda s: None)
    assert run_suite(TINY, executor, **kw) == 0
    (run,) = [r for r in load_suite(TINY, results_root=results).runs if "swin" in r.run_id]
    marker = run.run_dir / "stale.txt"
    marker.write_text("from the first run")
    assert run_suite(TINY, executor, force=True, **kw) == 0
    assert not marker.exists()
    assert summary(run.run_dir)["status"] == "finished"
    assert events(run.run_dir, "resume") == []


def test_a_run_another_process_holds_is_left_alone_and_never_deleted(tmp_path):
    """Whatever its summary says: a trainer holds the lock before it writes ``running`` (and
    after ``finished``, while it shrinks ``last.pt``), so ``pending`` with a live owner is busy
    too, and ``--force`` must not delete the folder under it."""
    results = tmp_path / "results"
    (run,) = [r for r in load_suite(TINY, results_root=results).runs if "swin" in r.run_id]
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(run.run_dir)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        write_summary(RunDir(run.run_dir), {"status": "pending"})
        log: list[str] = []
        kw = dict(only="swin", results_root=results, log=log.append)
        with pytest.raises(RunLockedError, match=rf"^{run.run_dir}: --force would delete a run "
                                                 rf"that pid {holder.pid} on \S+ is training"):
            run_suite(TINY, "debug", force=True, **kw)
        assert sorted(p.name for p in run.run_dir.iterdir()) == [".lock", "summary.json"]
        assert run_suite(TINY, "debug", **kw) == 0
        assert log == [f"running   {run.run_id} (pid {holder.pid} on {socket.gethostname()} "
                       "trains it; left alone)", "0 runs launched, 0 failed"]
        assert summary(run.run_dir) == {"status": "pending"}
    finally:
        holder.kill()
        holder.wait()


def test_scaling_suite_runs_the_sweep_once(tmp_path):
    """A ``kind: scaling`` suite is one job writing scaling.json; a second run is a no-op."""
    suite = tmp_path / "sweep.yaml"
    suite.write_text("kind: scaling\nscaling: {variants: [lada, dot_product], tokens: [16, 64],"
                     " scopes: [layer], repeats: 1, warmup: 1}\n")
    log: list[str] = []
    assert run_suite(suite, "debug", results_root=tmp_path / "r", log=log.append) == 0
    out = json.loads((tmp_path / "r" / "sweep" / "scaling.json").read_text())
    assert {(r["variant"], r["tokens"]) for r in out["rows"]} == {
        (v, n) for v in ("lada", "dot_product") for n in (16, 64)}
    assert all(r["status"] == "ok" for r in out["rows"])
    log.clear()
    assert run_suite(suite, "debug", results_root=tmp_path / "r", log=log.append) == 0
    assert log[0] == "finished  sweep scaling sweep (skipped)"


def test_parallel_local_jobs_share_the_cores(monkeypatch):
    from ladabench.launch import local_threads

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert (local_threads(1), local_threads(2), local_threads(3), local_threads(16)) == (None, 4, 2, 1)
    # the processes of a data-parallel run share them too
    assert (local_threads(1, 2), local_threads(2, 2), local_threads(1, 16)) == (4, 2, 1)


@pytest.mark.parametrize("executor, sets, expected", [
    ("debug", ["resources.tasks_per_node=2"], "resources: expected one process with --executor "
                                              "debug (it trains in this process), got 2; "
                                              "use --executor local or slurm"),
    ("local", ["resources.nodes=2"], "resources.nodes: expected 1 with --executor local (one "
                                     "machine), got 2; use --executor slurm"),
])
def test_executors_refuse_layouts_they_cannot_run_before_writing(tmp_path, executor, sets, expected):
    from ladabench.core.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        run_suite(TINY, executor, sets=sets, results_root=tmp_path / "r", log=lambda s: None)
    assert str(info.value) == f"{TINY}: {expected}"
    assert not (tmp_path / "r").exists()


def test_run_job_applies_its_thread_cap_and_passes_it_on(tmp_path, monkeypatch):
    import torch
    from threadpoolctl import threadpool_info

    import ladabench.train as train

    def blas_threads() -> set[int]:
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    seen = []
    monkeypatch.setattr(train, "run", lambda cfg, run_dir, **kw: seen.append(
        (torch.get_num_threads(), blas_threads())) or {"status": "finished"})
    before = torch.get_num_threads()
    try:
        job = RunJob(str(tmp_path), {}, (), threads=1)
        assert job()["status"] == "finished" and seen == [(1, {1})]
        assert job.checkpoint().function.threads == 1
    finally:
        torch.set_num_threads(before)


def test_threads_option_sets_every_local_job_and_is_checked(tmp_path, monkeypatch):
    import ladabench.launch.launcher as launch_mod
    from ladabench.core.errors import ConfigError

    submitted = []

    class Done:
        def done(self):
            return True

        def results(self):
            return [{"status": "finished"}]

    class Executor:
        def submit(self, job):
            submitted.append(job.threads)
            return Done()

    monkeypatch.setattr(launch_mod, "make_executor", lambda kind, suite, prof: Executor())
    assert run_suite(TINY, "local", max_parallel=2, threads=1, results_root=tmp_path,
                     log=lambda s: None) == 0
    assert submitted == [1, 1]
    with pytest.raises(ConfigError, match="--threads: expected >= 1 with --executor local, got 2 "
                                          "with --executor debug"):
        run_suite(TINY, "debug", threads=2, results_root=tmp_path, dry_run=True)


@pytest.mark.parametrize("sets, expected", [
    (["resources.tasks_per_node=2", "resources.cpus=3"], [(2, 3), (2, 3)]),
    ([], [(1, None), (1, None)]),  # one process: torch's default (the task's CPUs)
])
def test_slurm_jobs_carry_the_world_size_and_cap_threads_per_process(tmp_path, monkeypatch,
                                                                     sets, expected):
    import contextlib

    import ladabench.launch.launcher as launch_mod

    submitted = []

    class Executor:
        def batch(self):
            return contextlib.nullcontext()

        def submit(self, job):
            submitted.append((job.world_size, job.threads))
            return type("Job", (), {"job_id": "1_0"})()

    monkeypatch.setattr(launch_mod, "make_executor", lambda kind, suite, prof: Executor())
    assert run_suite(TINY, "slurm", sets=sets, results_root=tmp_path, wait=False,
                     log=lambda s: None) == 0
    assert submitted == expected
    # queued: `status` of the results folder (no suite file) shows the planned processes
    rows = show_status(str(tmp_path / load_suite(TINY).name)).splitlines()[2:]
    assert [row.split()[1:4] for row in rows] == [["pending", "0/8", str(expected[0][0])]] * 2
