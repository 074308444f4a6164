"""``train.log_to``: TensorBoard and W&B (offline) get the scalars of metrics.jsonl, the sample
grids and the final scores, read back from their own files; a tracker that is not installed is
a one-line error."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from ladabench.cli.main import main
from ladabench.config import RunConfig
from ladabench.core.io import read_jsonl
from ladabench.train import run, trackers
from ladabench.train.trackers import read_png

from .tiny import tiny_overrides
from .wandb_records import history

#: 6 steps of 8 images: train lines every 2 steps, grids at 24 and 48, evaluations at 0 and 48
SCHEDULE = dict(images=48, log_every_images=16, sample_every_images=24,
                checkpoint_every_images=48)
EVAL = {"metrics": ["fid", "kid"], "extractor": "digits-cnn", "every_images": 0,
        "at_images": [0, 48], "n_gen": 64, "n_real": 64, "final_n_gen": 64,
        "final_n_real": 64, "batch_size": 64}


def _cfg(log_to: list[str]) -> RunConfig:
    data = tiny_overrides(**SCHEDULE, log_to=log_to)
    return RunConfig.model_validate({**data, "eval": EVAL})


def _expected(out: Path) -> tuple[list[dict], list[dict], list[dict]]:
    """train lines, eval lines and sample events of the run's metrics.jsonl."""
    lines = read_jsonl(out / "metrics.jsonl")
    train = [r for r in lines if r["kind"] == "train"]
    evals = [r for r in lines if r["kind"] == "eval"]
    samples = [r for r in lines if r.get("event") == "sample"]
    assert len(train) >= 3 and len(evals) == 2 and len(samples) == 3  # real.png + 2 grids
    return train, evals, samples


def test_tensorboard_event_file_holds_the_metrics_jsonl_scalars_and_grids(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    summary = run(_cfg(["tensorboard"]), out, quiet=True)
    assert summary["status"] == "finished"
    train, evals, samples = _expected(out)
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    logged = {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}
    for line in train:
        numbers = {k: v for k, v in line.items() if isinstance(v, float) and k != "wall_time_s"}
        assert {"loss/G", "grad_norm/D", "grad_norm_mean/G", "r1", "img_per_s"} <= set(numbers)
        for key, value in numbers.items():
            assert logged[key][line["images_seen"]] == pytest.approx(value, rel=1e-6), key
    for line in evals:
        for metric in ("fid", "kid"):
            value = line["results"][metric]["value"]
            assert logged[f"eval/{metric}"][line["images_seen"]] == pytest.approx(value, rel=1e-6)
        assert logged["eval/kid_std"][line["images_seen"]] == pytest.approx(
            line["results"]["kid"]["std"], rel=1e-6)
    for which in ("final", "final_last"):
        for metric in ("fid", "kid"):
            assert logged[f"{which}/{metric}"] == {48: pytest.approx(
                summary[which][metric]["value"], rel=1e-6)}
    grids = {e.step: e for e in acc.Images("samples/grid")}
    assert sorted(grids) == [s["images_seen"] for s in samples[1:]]
    for event in samples[1:]:
        shown = np.asarray(Image.open(io.BytesIO(grids[event["images_seen"]].encoded_image_string)))
        assert np.array_equal(shown, read_png(out / "samples" / event["files"][0]))
    assert len(acc.Images("samples/real")) == 1


def test_wandb_offline_run_is_written_into_the_run_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    for var in ("WANDB_DIR", "WANDB_MODE", "WANDB_RUN_ID", "WANDB_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    for var in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    out = tmp_path / "run"
    cfg = _cfg(["wandb"])
    summary = run(cfg, out, quiet=True)
    assert summary["status"] == "finished"
    train, evals, samples = _expected(out)
    (folder,) = (out / "wandb").glob("offline-run-*")
    rows = history(next(folder.glob("run-*.wandb")))
    by_step: dict[int, dict] = {}
    for row in rows:
        by_step.setdefault(row["images_seen"], {}).update(row)
    for line in train:
        for key in ("loss/G", "grad_norm/D", "img_per_s"):
            assert by_step[line["images_seen"]][key] == pytest.approx(line[key], rel=1e-12)
    for line in evals:
        assert by_step[line["images_seen"]]["eval/fid"] == pytest.approx(
            line["results"]["fid"]["value"], rel=1e-12)
    assert by_step[48]["final/fid"] == pytest.approx(summary["final"]["fid"]["value"], rel=1e-12)
    assert by_step[48]["final_last/kid"] == pytest.approx(summary["final_last"]["kid"]["value"],
                                                          rel=1e-12)
    pictures = sorted((folder / "files" / "media" / "images").rglob("*.png"))
    # real.png, and per grid event the grid and the attention maps
    assert len(pictures) == 1 + 2 * (len(samples) - 1)
    assert folder.name.endswith(f"-{cfg.run_id()}")  # resumed runs continue the same W&B run


def test_a_tracker_that_is_not_installed_is_one_line_before_anything_is_written(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(trackers.MODULES, "wandb", "ladabench_no_such_module")
    cfg = tmp_path / "run.yaml"
    cfg.write_text(yaml.safe_dump(tiny_overrides(log_to=["wandb"])))
    out = tmp_path / "out"
    assert main(["train", str(cfg), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "train.log_to" in err and "pip install 'ladabench[wandb]'" in err
    assert not out.exists()


def test_log_to_does_not_change_the_experiment():
    plain = RunConfig.model_validate(tiny_overrides())
    logged = RunConfig.model_validate(tiny_overrides(log_to=["tensorboard", "wandb"],
                                                     wandb_mode="online"))
    assert plain.config_hash() == logged.config_hash()


def test_a_tracker_listed_twice_is_refused():
    with pytest.raises(ValueError, match="each tracker at most once"):
        RunConfig.model_validate(tiny_overrides(log_to=["wandb", "wandb"]))
