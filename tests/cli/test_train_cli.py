"""``ladabench train``: config errors before any work, a tiny run end to end."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from ladabench.cli import main
from ladabench.core.io import read_jsonl
from train.tiny import PLUGIN, register_tiny, tiny_overrides

register_tiny()


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(tmp_path, data) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_unknown_key_fails_before_anything_is_built(tmp_path, capsys):
    data = tiny_overrides()
    data["train"]["bach_size"] = 4
    code = main(["train", _config(tmp_path, data), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert "cfg.yaml: train.bach_size: unknown key (did you mean 'batch_size'?)" in err
    assert not (tmp_path / "run").exists()


def test_config_errors_do_not_load_torch_fidelity(tmp_path):
    """The checks of names (metrics, extractors, presets) come from the registries without
    importing torch-fidelity, whose torchvision and torch._dynamo cost ~2.5 s of every one-line
    error; a fresh process, since this one has loaded it already."""
    cfg = _config(tmp_path, {"model": {"preset": "celeba_64"}, "data": {"resolution": 256},
                             "eval": {"metrics": ["fid", "isx"]}})
    code = ("import sys; from ladabench.cli import main; code = main(['train', sys.argv[1]]); "
            "sys.exit(10 + code if 'torch_fidelity' in sys.modules else code)")
    done = subprocess.run([sys.executable, "-c", code, cfg], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr  # 12: the error, but torch-fidelity was loaded
    assert "data.resolution: preset 'celeba_64' generates 64x64" in done.stderr
    assert "unknown metric 'isx'" in done.stderr


def test_wrong_type_and_bad_policy_through_set_name_the_key(tmp_path, capsys):
    cfg = _config(tmp_path, tiny_overrides())
    assert main(["train", cfg, "--set", "train.images=lots", "--out", str(tmp_path / "r")]) == 2
    assert "train.images: Input should be a valid integer" in capsys.readouterr().err
    assert main(["train", cfg, "--set", "train.diffaug=color,flip", "--out", str(tmp_path / "r")]) == 2
    assert "train.diffaug.1: Input should be 'color', 'translation' or 'cutout' (got 'flip')" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_tf32_on_cpu_is_an_impossible_combination(tmp_path, capsys):
    cfg = _config(tmp_path, tiny_overrides())
    assert main(["train", cfg, "--set", "train.tf32=true", "--device", "cpu", "--out", str(tmp_path / "r")]) == 2
    assert "train.tf32: TensorFloat-32 is a CUDA option; device is cpu" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_tiny_run_through_the_cli(tmp_path, capsys):
    data = tiny_overrides(images=8 * 4, log_every_images=16)
    data["eval"] = {"metrics": ["fid"], "extractor": "digits-cnn", "final_n_gen": 50,
                    "final_n_real": 50, "every_images": 0}
    cfg = _config(tmp_path, data)
    out = tmp_path / "run"
    assert main(["train", cfg, "--out", str(out), "--quiet", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"finished: {out} (step 4, 32 images")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["images_seen"] == 32
    fid = summary["final"]["fid"]
    assert f"1 process): fid {fid['value']:.4g}" in printed  # the scores, and what they scored
    assert printed.rstrip().endswith(f"· {fid['checkpoint']} at {fid['images_seen']:,} images")


@pytest.mark.parametrize("quiet", [False, True])
def test_quiet_silences_every_progress_bar(tmp_path, capsys, monkeypatch, quiet):
    """With --quiet no bar is drawn: neither training's nor the one-time decoding of a folder
    data set; without it both are."""
    from PIL import Image

    monkeypatch.setenv("LADABENCH_CACHE", str(tmp_path / "cache"))
    (tmp_path / "photos").mkdir()
    for i in range(16):
        Image.new("RGB", (40, 40), (i * 15, 0, 0)).save(tmp_path / "photos" / f"{i}.png")
    data = tiny_overrides(images=16)
    data["data"] = {"name": "folder", "root": str(tmp_path / "photos")}
    out = tmp_path / "run"
    assert main(["train", _config(tmp_path, data), "--out", str(out), "--device", "cpu",
                 *(["--quiet"] if quiet else [])]) == 0
    err = capsys.readouterr().err
    assert ("decoding" in err, "img/s" in err) == (not quiet, not quiet)


def test_ladabench_warnings_print_as_one_line():
    from ladabench.cli.main import PACKAGE_DIR, one_line_warning

    ours = one_line_warning(UserWarning("n_real capped"), UserWarning,
                            f"{PACKAGE_DIR}/metrics/evaluation.py", 70, "warnings.warn(...)")
    assert ours == "ladabench: warning: n_real capped\n"
    theirs = one_line_warning(UserWarning("x"), UserWarning, "/opt/lib/foo.py", 3, "foo()")
    assert theirs.startswith("/opt/lib/foo.py:3: UserWarning: x\n")  # other libraries: as Python


def test_out_in_a_system_folder_is_refused(tmp_path, capsys):
    assert main(["train", _config(tmp_path, tiny_overrides()), "--out", "/"]) == 2
    assert "--out: / resolves to the system folder /" in capsys.readouterr().err


def test_out_in_a_folder_of_other_files_is_refused(tmp_path, capsys):
    """A run directory owns its folder: a session start deletes the temp files of killed writes
    (``.*.tmp``) in it, at any depth, so ``--out /tmp`` or a project folder would lose others'."""
    cfg = _config(tmp_path, tiny_overrides(images=8 * 4))
    other = tmp_path / "work"
    (other / "deep").mkdir(parents=True)
    (other / "deep" / ".editor.swap.tmp").write_text("someone else's")
    assert main(["train", cfg, "--out", str(other), "--quiet"]) == 2
    assert capsys.readouterr().err == (
        f"ladabench train: error: {other}: a folder with other files (deep) that is not a run "
        "directory; train into a new or empty folder\n")
    assert sorted(p.name for p in other.rglob("*")) == [".editor.swap.tmp", "deep"]


def test_a_global_batch_that_does_not_split_over_nproc_names_the_file_and_key(tmp_path, capsys):
    cfg = _config(tmp_path, tiny_overrides())
    assert main(["train", cfg, "--nproc", "3", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("cfg.yaml: train.batch_size: 8 does not split over 3 processes (--nproc; "
                        "expected a multiple of 3)") and "\n" not in err
    assert not (tmp_path / "r").exists()


def test_nproc_runs_the_preflight_once_in_the_launcher_not_again_in_the_workers(tmp_path,
                                                                              monkeypatch):
    """The workers get ``--preflight-done`` (here one worker, run in this process in place of
    torch's launcher): the pre-flight and its warnings come once."""
    from ladabench.launch import elastic, preflight

    checks, real_preflight = [], preflight.preflight

    def counted(*args, **kwargs):
        checks.append(args[2])
        return real_preflight(*args, **kwargs)

    def one_worker(argv, nproc):
        assert nproc == 2 and "--preflight-done" in argv
        return None if main(argv) == 0 else "rank 0 failed"

    monkeypatch.setattr(preflight, "preflight", counted)
    monkeypatch.setattr(elastic, "launch_local", one_worker)
    out = tmp_path / "run"
    assert main(["train", _config(tmp_path, tiny_overrides(images=16)), "--nproc", "2",
                 "--out", str(out)]) == 0
    assert checks == [out] and (out / "summary.json").exists()


@pytest.mark.slow
def test_nproc_trains_one_run_as_two_processes(tmp_path):
    """``--nproc 2``: torch's elastic launcher starts 2 ranks; rank 0 alone writes the run
    directory (each log line once) and reports once."""
    data = {**tiny_overrides(images=8 * 10, log_every_images=8 * 5),
            "plugins": [str(PLUGIN)]}
    cfg, out = _config(tmp_path, data), tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "ladabench", "train", cfg, "--nproc", "2", "--out", str(out),
         "--allow-plugin", str(PLUGIN)],
        capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("finished:") == 1 and "2 processes)" in done.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["world_size"] == 2
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["world_size"] == 2 and provenance["backend"] == "gloo"
    assert [r["hostname"] for r in provenance["ranks"]] == [provenance["hostname"]] * 2
    train = [r["step"] for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"]
    assert train == [5, 10]


def _events(out, name: str) -> list[dict]:
    metrics = out / "metrics.jsonl"
    return [r for r in read_jsonl(metrics) if r.get("event") == name] if metrics.exists() else []


@pytest.mark.slow
def test_sigterm_to_the_nproc_launcher_checkpoints_every_rank_and_a_rerun_resumes(tmp_path):
    """The elastic launcher passes SIGTERM to both ranks: one checkpoint, ``interrupted``,
    exit 143; ``--nproc 2`` again resumes from it and finishes."""
    data = {**tiny_overrides(images=8 * 60, log_every_images=8 * 5,
                             checkpoint_every_images=8 * 5), "plugins": [str(PLUGIN)]}
    cfg, out = _config(tmp_path, data), tmp_path / "run"
    command = [sys.executable, "-m", "ladabench", "train", cfg, "--nproc", "2", "--out",
               str(out), "--allow-plugin", str(PLUGIN)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    launcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    waited = 0.0
    while not _events(out, "checkpoint"):
        assert launcher.poll() is None and waited < 300, launcher.communicate()[1][-2000:]
        time.sleep(0.2)
        waited += 0.2
    launcher.send_signal(signal.SIGTERM)
    assert launcher.wait(timeout=300) == 143, launcher.communicate()[1][-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["stopped_by"] == "SIGTERM"
    stopped_at = summary["last_checkpoint"]["step"]
    assert summary["step"] == stopped_at < 60

    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert [r["from_step"] for r in _events(out, "resume")] == [stopped_at]
    assert json.loads((out / "summary.json").read_text())["step"] == 60
