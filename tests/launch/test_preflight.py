"""The pre-flight check of ``train`` and ``run``: what used to fail after start-up (or after
training) is one line per problem, exit 2, in seconds, with no run folder written; warnings
that protect the metric protocol."""
from __future__ import annotations

import json
import shutil
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from ladabench.cli import build_parser, main
from ladabench.cli.train import option_sets
from ladabench.launch import preflight as preflight_module
from ladabench.launch import run_suite
from ladabench.suite import load_suite
from ladabench.metrics.cache import CACHE_ENV
from ladabench.suite.runfile import load_train_config
from ladabench.train import trackers
from metrics.test_inception import offline  # noqa: F401  (the fixture)
from train.tiny import PLUGIN, register_tiny, tiny_overrides

register_tiny()
pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY_SUITE = Path(__file__).resolve().parents[1] / "suites" / "tiny.yaml"


def write_config(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def image_folder(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(root / f"{i}.png")
    return root


def train_fails(tmp_path, capsys, data: dict, *options: str) -> list[str]:
    """Run ``ladabench train`` expecting exit 2 within 5 s and no run folder; the error lines."""
    out = tmp_path / "run"
    start = time.monotonic()
    code = main(["train", write_config(tmp_path, data), "--out", str(out), *options])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert code == 2, err
    assert elapsed < 5.0
    assert not out.exists()
    return err.strip().splitlines()


def test_resolution_is_taken_from_the_preset_when_not_given(tmp_path):
    data = {"model": {"preset": "celeba_64"}, "data": {"name": "digits"}}
    cfg, _ = load_train_config(write_config(tmp_path, data))
    assert cfg.data.resolution == 64


def test_a_resolution_that_contradicts_the_preset_is_one_line(tmp_path, capsys):
    data = {"model": {"preset": "celeba_64"}, "data": {"name": "digits", "resolution": 256}}
    (line,) = train_fails(tmp_path, capsys, data)
    assert line.endswith("cfg.yaml: data.resolution: preset 'celeba_64' generates 64x64 images; "
                         "expected data.resolution 64, got 256")


def test_unknown_metric_and_extractor_fail_before_training(tmp_path, capsys):
    data = tiny_overrides()
    data["eval"] = {"metrics": ["fid", "sharpness"], "extractor": "clip"}
    metric, extractor = train_fails(tmp_path, capsys, data)
    assert "cfg.yaml: eval.metrics: unknown metric 'sharpness'; available:" in metric
    assert extractor.endswith("cfg.yaml: eval.extractor: unknown extractor 'clip'; available: "
                              "digits-cnn, inception-v3-compat")


def test_offline_inception_fid_without_weights_fails_before_training(tmp_path, capsys, offline):
    data = tiny_overrides()
    data["eval"] = {"metrics": ["fid"]}
    (line,) = train_fails(tmp_path, capsys, data)
    assert "cfg.yaml: eval.extractor: Inception weights for FID/KID not found" in line
    assert "--inception-weights PATH" in line
    missing = tmp_path / "nowhere.pth"
    (line,) = train_fails(tmp_path, capsys, data, "--inception-weights", str(missing))
    assert f"cfg.yaml: eval.inception_weights: {missing}: file not found" in line
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"\x00" * 64)
    (line,) = train_fails(tmp_path, capsys, data, "--inception-weights", str(corrupt))
    assert f"cfg.yaml: eval.inception_weights: {corrupt}: not a torch weights file" in line


def test_inception_weights_option_sets_the_config_key(tmp_path):
    weights = tmp_path / "w.pth"
    torch.save({"w": torch.ones(1)}, weights)
    data = tiny_overrides()
    data["eval"] = {"metrics": ["fid"], "n_real": 500, "final_n_real": 500}
    path = write_config(tmp_path, data)
    args = build_parser().parse_args(["train", path, "--inception-weights", str(weights)])
    cfg, _ = load_train_config(path, option_sets(args))
    assert cfg.eval.inception_weights == str(weights)
    assert preflight_module.preflight([cfg], "cfg.yaml", tmp_path / "run", "--out") == []


def test_missing_and_unreadable_data_are_named(tmp_path, capsys):
    data = tiny_overrides()
    data["data"] = {"name": "folder", "root": str(tmp_path / "absent")}
    (line,) = train_fails(tmp_path, capsys, data)
    assert f"cfg.yaml: data.root: image folder {tmp_path / 'absent'}/ does not exist" in line
    folder = image_folder(tmp_path / "images", 2)
    (folder / "0.png").write_bytes(b"not a png")
    data["data"]["root"] = str(folder)
    (line,) = train_fails(tmp_path, capsys, data)
    assert f"cfg.yaml: data.root: {folder / '0.png'}: cannot read image" in line


def test_device_options_and_several_problems_at_once(tmp_path, capsys):
    data = tiny_overrides(tf32=True)
    data["data"] = {"name": "folder", "root": str(tmp_path / "absent")}
    lines = train_fails(tmp_path, capsys, data)
    assert len(lines) == 2
    assert lines[1] == (f"{tmp_path / 'cfg.yaml'}: train.tf32: TensorFloat-32 is a CUDA option; "
                        "device is cpu")


def test_a_tracker_that_is_not_installed_stops_train_and_a_dry_run(tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.setitem(trackers.MODULES, "wandb", "ladabench_no_such_module")
    (line,) = train_fails(tmp_path, capsys, tiny_overrides(log_to=["wandb"]))
    assert line.endswith("cfg.yaml: train.log_to: wandb is not installed; install it with pip "
                         "install 'ladabench[wandb]'")
    results = tmp_path / "results"
    code = main(["run", str(TINY_SUITE), "--dry-run", "--results", str(results),
                 "--set", "train.log_to=[wandb]"])
    assert code == 2
    assert "tiny.yaml: train.log_to: wandb is not installed" in capsys.readouterr().err
    assert not results.exists()


def test_too_little_disk_for_one_checkpoint(tmp_path, capsys, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    (line,) = train_fails(tmp_path, capsys, tiny_overrides())
    assert "cfg.yaml: --out: 0.00 GB free in " in line and "one checkpoint needs" in line


def test_checkpoint_size_counts_models_and_adam_moments():
    cfg, = [load_train_config_from(tiny_overrides())]
    import torch
    from ladabench.models import build_discriminator, build_generator

    n_g = sum(p.numel() for p in build_generator(cfg.model, cfg.train.noise_dim).parameters())
    n_d = sum(p.numel() for p in build_discriminator(cfg.model).parameters())
    assert preflight_module.checkpoint_bytes(cfg) == 4 * (4 * n_g + 3 * n_d)
    assert torch.zeros(1).device.type == "cpu"  # building on meta left the default device alone


def load_train_config_from(data: dict):
    from ladabench.config import RunConfig

    return RunConfig.model_validate(data)


def test_train_loads_plugins_relative_to_its_config(tmp_path, capsys):
    (tmp_path / "my_preset.py").write_text(PLUGIN.read_text().replace("tiny_32", "my_tiny_32"))
    data = tiny_overrides()
    data["model"]["preset"] = "my_tiny_32"
    data["plugins"] = ["my_preset.py"]
    cfg, plugins = load_train_config(write_config(tmp_path, data))
    assert plugins == (str((tmp_path / "my_preset.py").resolve()),)
    assert cfg.data.resolution == 32  # from the plugin's preset
    data["plugins"] = ["absent.py"]
    (line,) = train_fails(tmp_path, capsys, data)
    assert line.endswith(f"cfg.yaml: plugins[0]: plugin file {(tmp_path / 'absent.py').resolve()} not found")


def test_protocol_warnings_n_real_cap_and_extractor_on_photos(tmp_path):
    data = tiny_overrides()
    data["data"] = {"name": "folder", "root": str(image_folder(tmp_path / "photos", 6))}
    data["eval"] = {"metrics": ["fid"], "extractor": "digits-cnn", "every_images": 0,
                    "final_n_real": 500}
    cfg, _ = load_train_config(write_config(tmp_path, data))
    warnings = [str(w) for w in preflight_module.preflight([cfg], "cfg.yaml", tmp_path / "r", "--out")]
    assert warnings == [
        "cfg.yaml: eval.final_n_real: 500 real images asked, but the train split of 'folder' has "
        "6: FID/KID use all 6, and the protocol records n_real 6 with n_real_requested 500",
        "cfg.yaml: eval.extractor: digits-cnn was made for digits, stacked_digits, not data set "
        "'folder': its FID/KID say little about these images (use inception-v3-compat for a "
        "standard FID)",
    ]
    digits = load_train_config_from({**tiny_overrides(), "eval": {
        "extractor": "digits-cnn", "metrics": ["fid"], "n_real": 4000, "final_n_real": 4000}})
    assert preflight_module.preflight([digits], "cfg.yaml", tmp_path / "r", "--out") == []


def test_dry_run_checks_data_and_writes_nothing(tmp_path, capsys):
    results = tmp_path / "results"
    code = main(["run", str(TINY_SUITE), "--dry-run", "--results", str(results),
                 "--set", "data.name=folder", "--set", f"data.root={tmp_path / 'absent'}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"tiny.yaml: data.root: image folder {tmp_path / 'absent'}/ does not exist" in err
    assert not results.exists()


def half_broken_folder(tmp_path, monkeypatch) -> Path:
    """A folder whose first image reads (the pre-flight passes) and whose second does not (the
    run fails while decoding the folder into the cache)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    folder = image_folder(tmp_path / "images", 2)
    (folder / "1.png").write_bytes(b"not a png")
    return folder


def test_run_prints_each_failed_runs_error_and_log(tmp_path, monkeypatch):
    folder = half_broken_folder(tmp_path, monkeypatch)
    log: list[str] = []
    code = run_suite(TINY_SUITE, "local", only="lada", results_root=tmp_path / "results",
                     sets=["data.name=folder", f"data.root={folder}"], log=log.append)
    assert code == 1
    last = log[-1]
    assert last.startswith("failed    lada-")
    assert f": DataError: {folder / '1.png'}: cannot read image" in last
    log_file = Path(last.rsplit("(log ", 1)[1].rstrip(")"))
    assert log_file.is_file() and "cannot read image" in log_file.read_text()


def test_debug_executor_prints_the_traceback_and_stops(tmp_path, monkeypatch, capsys):
    folder = half_broken_folder(tmp_path, monkeypatch)
    results = tmp_path / "results"
    code = main(["run", str(TINY_SUITE), "--executor", "debug", "--results", str(results),
                 "--set", "data.name=folder", "--set", f"data.root={folder}"])
    captured = capsys.readouterr()  # a debugger prompt would have failed on pytest's stdin
    assert code == 1
    assert "Traceback (most recent call last)" in captured.err
    assert "2 runs launched" not in captured.out and "1 run launched, 1 failed" in captured.out
    statuses = sorted(json.loads(p.read_text())["status"] for p in results.rglob("summary.json"))
    assert statuses == ["failed", "pending"]  # the second run was not started


def test_pdb_needs_the_debug_executor(tmp_path, capsys):
    assert main(["run", str(TINY_SUITE), "--pdb", "--results", str(tmp_path)]) == 2
    assert "--pdb: only used with --executor debug" in capsys.readouterr().err


def test_smoke_shrinks_the_resources(tmp_path):
    suite = tmp_path / "big.yaml"
    suite.write_text("base: digits\nresources: {gpus: 4, cpus: 16, mem_gb: 64, time_min: 2880}\n")
    assert load_suite(suite).resources.gpus == 4
    small = load_suite(suite, smoke=True).resources
    assert (small.gpus, small.cpus, small.mem_gb, small.time_min) == (0, 2, 8.0, 30)
    cuda = load_suite(suite, smoke=True, sets=["train.device=cuda"]).resources
    assert cuda.gpus == 1


def test_dry_run_looks_for_weights_without_downloading(tmp_path, capsys, offline, monkeypatch):
    import ladabench.metrics.inception as inception

    calls = []
    monkeypatch.setattr(inception, "download_file", lambda *args, **kwargs: calls.append(args))
    code = main(["run", str(TINY_SUITE), "--dry-run", "--results", str(tmp_path / "results"),
                 "--set", "eval.metrics=[fid]", "--set", "eval.extractor=inception-v3-compat"])
    assert code == 2 and calls == []
    err = capsys.readouterr().err
    assert "tiny.yaml: eval.extractor: Inception weights for FID/KID not found" in err
    assert not (tmp_path / "results").exists()
