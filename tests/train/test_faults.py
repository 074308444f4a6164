"""Faults a run survives: real signals sent to real trainer processes, two trainers on one run
directory, kills before and between checkpoints, torn files, a really full disk, checkpoints
that do not fit the config."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from ladabench.core import io
from ladabench.core.errors import DataError
from ladabench.core.io import read_jsonl
from ladabench.core.rundir import RunDir, run_status
from ladabench.train import run
from ladabench.train.checkpoint import load_checkpoint

from small_disk import run_on_small_disk

from .test_engine import REF, _assert_same_state, _cfg, reference  # noqa: F401 (fixture)

HERE = Path(__file__).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
#: the logged steps of the reference schedule (40 steps, a line every 5)
STEPS = list(range(5, 41, 5))


def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(_cfg(**REF).to_dict()))
    return path


def _child(cfg: Path, out: Path, *fault: str) -> list[str]:
    return [sys.executable, str(HERE / "train_child.py"), str(cfg), str(out), *fault]


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def _train_steps(out: Path) -> list[int]:
    return [r["step"] for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"]


def _events(out: Path, name: str) -> list[dict]:
    return [r for r in read_jsonl(out / "metrics.jsonl") if r.get("event") == name]


@pytest.mark.parametrize("name, code", [("SIGTERM", 143), ("SIGINT", 130)])
def test_a_stop_signal_checkpoints_at_the_next_step_and_exits_128_plus_it(reference, tmp_path,
                                                                           name, code):
    out = tmp_path / "run"
    done = subprocess.run(_child(_config_file(tmp_path), out, name, "13"), env=ENV,
                          capture_output=True, text=True)
    assert done.returncode == code, done.stderr[-2000:]
    s = _summary(out)
    assert (s["status"], s["stopped_by"], s["step"]) == ("interrupted", name, 13)
    assert s["last_checkpoint"] == {"step": 13, "images_seen": 104}
    assert load_checkpoint(out / "checkpoints/last.pt")["step"] == 13
    assert run(_cfg(**REF), out, quiet=True)["status"] == "finished"
    assert _train_steps(out) == [5, 10, 13, 15, 20, 25, 30, 35, 40]
    _assert_same_state(load_checkpoint(out / "checkpoints/last.pt"),
                       load_checkpoint(reference[0] / "checkpoints/last.pt"))


def _wait_for(path: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.05)


def test_a_second_trainer_on_a_live_run_is_refused_naming_the_owner(tmp_path):
    cfg, out = _config_file(tmp_path), tmp_path / "run"
    first = subprocess.Popen(_child(cfg, out, "hold", "3"), env=ENV, stderr=subprocess.PIPE,
                             text=True)
    try:
        _wait_for(Path(f"{out}.held"), first)
        lines = (out / "metrics.jsonl").read_text()
        second = subprocess.run(_child(cfg, out), env=ENV, capture_output=True, text=True)
        assert second.returncode == 2
        assert re.fullmatch(rf"ladabench train: error: {out}: another process trains in this run "
                            rf"directory \(pid {first.pid} on \S+\); wait for it or stop it "
                            r"first\n", second.stderr)
        assert (out / "metrics.jsonl").read_text() == lines  # the refused one wrote nothing
        first.send_signal(signal.SIGTERM)
        Path(f"{out}.release").touch()
        assert first.wait(timeout=120) == 143
    finally:
        first.kill()
    assert _summary(out)["step"] == 3 == load_checkpoint(out / "checkpoints/last.pt")["step"]


def test_a_kill_before_the_first_checkpoint_leaves_no_step_twice(tmp_path):
    cfg, out = _config_file(tmp_path), tmp_path / "run"
    killed = subprocess.Popen([sys.executable, str(HERE / "run_and_kill.py"), str(cfg), str(out),
                               "7"], env=ENV)
    assert killed.wait() == -signal.SIGKILL
    assert _train_steps(out) == [5] and not (out / "checkpoints/last.pt").exists()
    assert run_status(RunDir(out)) == "interrupted"  # the summary still says running
    assert run(_cfg(**REF), out, quiet=True)["status"] == "finished"
    assert _train_steps(out) == STEPS
    assert _events(out, "lock_takeover")[0]["previous_owner"]["pid"] == killed.pid
    assert _events(out, "repair")[0]["replayed_lines_dropped"] >= 1
    assert _events(out, "resume") == []


def test_a_torn_line_and_temp_files_are_repaired_when_the_run_resumes(tmp_path):
    calls = iter(range(1, 100))
    run(_cfg(**REF), tmp_path, quiet=True, should_stop=lambda: next(calls) == 13)
    torn = b'{"kind": "train", "step": 14, "loss/'
    with open(tmp_path / "metrics.jsonl", "ab") as f:
        f.write(torn)
    (tmp_path / "checkpoints/.last.pt.k1ll3d.tmp").write_bytes(b"half a checkpoint")
    assert run(_cfg(**REF), tmp_path, quiet=True)["status"] == "finished"
    repair = _events(tmp_path, "repair")[0]
    assert repair["torn_bytes_cut"] == len(torn)
    assert repair["temp_files_removed"] == ["checkpoints/.last.pt.k1ll3d.tmp"]
    assert not list(tmp_path.rglob("*.tmp"))
    assert all(line.strip() for line in (tmp_path / "metrics.jsonl").read_text().splitlines())
    assert _train_steps(tmp_path) == [5, 10, 13, 15, 20, 25, 30, 35, 40]


def test_a_full_disk_fails_with_one_line_and_the_rerun_finishes_the_run(reference, tmp_path):
    cfg, disk, keep = _config_file(tmp_path), tmp_path / "disk", tmp_path / "keep"
    keep.mkdir()
    fail, resume = _child(cfg, disk / "run", "fill", "25"), _child(cfg, disk / "run")
    script = f"""
{' '.join(fail)} 2> {keep}/err1; echo $? > {keep}/rc1
cp -a {disk}/run {keep}/failed
rm {disk}/filler
{' '.join(resume)} 2> {keep}/err2; echo $? > {keep}/rc2
cp -a {disk}/run {keep}/resumed
"""
    done = run_on_small_disk(disk, 12 * 1024, script, env=ENV)
    assert done.returncode == 0, done.stderr[-2000:]
    err = (keep / "err1").read_text()
    assert (keep / "rc1").read_text().strip() == "1", err[-2000:]
    assert re.fullmatch(rf"ladabench train: error: (no space left on {disk} writing|only [\d.]+ "
                        rf"MiB free on {disk}, [\d.]+ MiB needed writing) {disk}/run/\S+; the "
                        r"last good checkpoint at step 20 is kept\n", err)
    failed = _summary(keep / "failed")
    assert failed["status"] == "failed" and failed["error"].startswith("DiskFullError: ")
    assert failed["step"] >= 25 and failed["last_checkpoint"]["step"] == 20
    assert (keep / "rc2").read_text().strip() == "0", (keep / "err2").read_text()[-2000:]
    assert _summary(keep / "resumed")["status"] == "finished"
    assert _train_steps(keep / "resumed") == STEPS
    _assert_same_state(load_checkpoint(keep / "resumed/checkpoints/last.pt"),
                       load_checkpoint(reference[0] / "checkpoints/last.pt"))


def test_too_little_space_for_the_next_checkpoint_stops_before_writing(tmp_path, monkeypatch):
    calls = iter(range(1, 100))
    run(_cfg(**REF), tmp_path, quiet=True, should_stop=lambda: next(calls) == 13)
    monkeypatch.setattr(io, "free_bytes", lambda folder: 2**20)
    with pytest.raises(io.DiskFullError, match=r"^only 1.0 MiB free on /\S*, [\d.]+ MiB needed "
                       rf"writing {tmp_path}/checkpoints/last.pt; the last good checkpoint at "
                       r"step 13 is kept$"):
        run(_cfg(**REF), tmp_path, quiet=True)
    s = _summary(tmp_path)
    assert (s["status"], s["step"], s["last_checkpoint"]["step"]) == ("failed", 20, 13)
    assert load_checkpoint(tmp_path / "checkpoints/last.pt")["step"] == 13


def _break_checkpoint(path: Path, how: str) -> None:
    ck = torch.load(path, weights_only=True)
    if how == "rng":
        del ck["rng"]
    elif how == "shape":
        name = next(iter(ck["G"]))
        ck["G"][name] = torch.zeros(3)
    else:
        ck["D"].pop(next(iter(ck["D"])))
    torch.save(ck, path)


@pytest.mark.parametrize("how, message", [
    ("rng", r"the checkpoint has no 'rng' entry \(a finished run's last\.pt keeps only the "
            r"models; best\.pt only the EMA generator\)"),
    ("shape", r"G\.\S+ has shape \(3,\) in the checkpoint, \(\d+(, \d+)*\) in the model of "
              r"this config"),
    ("missing", r"D\.\S+ is missing from the checkpoint"),
])
def test_a_checkpoint_that_does_not_fit_is_one_line_exit_2(tmp_path, how, message):
    from ladabench.cli.main import main

    calls = iter(range(1, 100))
    run(_cfg(**REF), tmp_path / "run", quiet=True, should_stop=lambda: next(calls) == 3)
    ck = tmp_path / "run/checkpoints/last.pt"
    _break_checkpoint(ck, how)
    with pytest.raises(DataError, match=rf"^{ck}: {message}$"):
        run(_cfg(**REF), tmp_path / "run", quiet=True)
    assert _summary(tmp_path / "run")["status"] == "failed"
    assert main(["train", str(_config_file(tmp_path)), "--out", str(tmp_path / "run"),
                 "--quiet"]) == 2


def test_a_resume_reads_the_checkpoint_on_the_cpu_whatever_the_run_device(tmp_path):
    """Loading with map_location=the run's device moved the numpy RNG keys to the GPU and every
    GPU resume failed; a "meta" device stands in for the GPU here."""
    from ladabench.config import prepare_run_dir
    from ladabench.train.loop import Trainer

    calls = iter(range(1, 100))
    run(_cfg(**REF), tmp_path, quiet=True, should_stop=lambda: next(calls) == 3)
    trainer = Trainer(_cfg(**REF), prepare_run_dir(_cfg(**REF), tmp_path), torch.device("cpu"),
                      quiet=True)
    trainer.device = torch.device("meta")
    trainer.restore(tmp_path / "checkpoints/last.pt")
    assert trainer.step == 3
