"""``ladabench generate`` and ``ladabench eval`` on a tiny trained run (digit CNN protocol)."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.cli import main
from ladabench.config import RunConfig
from ladabench.core.protocol import protocol_id
from ladabench.metrics.cache import CACHE_ENV
from ladabench.train import run as train_run
from train.tiny import register_tiny, tiny_overrides

register_tiny()

pytestmark = pytest.mark.usefixtures("one_torch_thread")
#: the digit CNN protocol at small counts (the default extractor needs Inception weights)
EVAL = ["--extractor", "digits-cnn", "--metrics", "fid", "--n-real", "200"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 4-step tiny run without evaluation, and a private metrics cache."""
    root = tmp_path_factory.mktemp("gen_eval")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(root / "cache"))
        data = tiny_overrides(images=32, log_every_images=16, checkpoint_every_images=16,
                              sample_every_images=32)
        summary = train_run(RunConfig.model_validate(data), root / "run", quiet=True)
        assert summary["status"] == "finished" and summary["final"] == {}
        yield root


def _eval(capsys, *args) -> dict:
    assert main(["eval", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_generate_writes_n_pngs_and_an_npz_of_uint8_images(trained, capsys):
    out = trained / "pngs"
    assert main(["generate", str(trained / "run"), "--n", "7", "--out", str(out), "--batch",
                 "3", "--quiet"]) == 0
    files = sorted(out.glob("*.png"))
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(7)]
    first = np.asarray(Image.open(files[0]))
    assert first.shape == (32, 32, 3) and first.dtype == np.uint8
    npz = trained / "images.npz"
    assert main(["generate", str(trained / "run/checkpoints/last.pt"), "--n", "7", "--out",
                 str(npz), "--batch", "3", "--quiet"]) == 0
    arr = np.load(npz)["arr_0"]
    assert arr.shape == (7, 32, 32, 3) and arr.dtype == np.uint8
    assert np.array_equal(arr[0], first)  # the same noise (seed 2020) and batches
    other = trained / "seed1.npz"
    assert main(["generate", str(trained / "run"), "--n", "7", "--out", str(other), "--seed", "1",
                 "--batch", "3", "--quiet"]) == 0
    assert not np.array_equal(np.load(other)["arr_0"], arr)
    assert "7 images (3, 32, 32)" in capsys.readouterr().out


def test_eval_of_run_dir_checkpoint_and_png_folder_give_the_same_fid(trained, capsys):
    run_dir = trained / "run"
    by_run = _eval(capsys, run_dir, *EVAL, "--n-gen", "60")
    by_ckpt = _eval(capsys, run_dir / "checkpoints/last.pt", *EVAL, "--n-gen", "60")
    assert main(["generate", str(run_dir), "--n", "60", "--out", str(trained / "sixty"),
                 "--quiet"]) == 0
    capsys.readouterr()
    by_pngs = _eval(capsys, trained / "sixty", *EVAL, "--config", run_dir)
    fid = by_run["results"]["fid"]
    assert by_ckpt["results"]["fid"]["value"] == fid["value"]
    assert by_pngs["results"]["fid"]["value"] == pytest.approx(fid["value"], rel=1e-9)
    assert by_pngs["results"]["fid"]["protocol"] == fid["protocol"]
    assert (by_run["checkpoint"], by_run["images_seen"]) == ("last.pt", 32)
    assert fid["protocol"]["extractor"] == "digits-cnn" and fid["protocol"]["n_gen"] == 60
    assert by_run["written_to"] == str(run_dir / "summary.json") and by_pngs["written_to"] is None


def test_eval_writes_under_its_protocol_and_never_overwrites_another(trained, capsys):
    run_dir = trained / "run"
    first = _eval(capsys, run_dir, *EVAL, "--n-gen", "50")["results"]["fid"]
    second = _eval(capsys, run_dir, *EVAL, "--n-gen", "40")["results"]["fid"]
    summary = json.loads((run_dir / "summary.json").read_text())
    scores = summary["scores"]["fid"]
    pid1, pid2 = protocol_id(first["protocol"]), protocol_id(second["protocol"])
    assert pid1 != pid2 and scores[pid1]["value"] == first["value"]
    assert scores[pid2]["value"] == second["value"] and scores[pid2]["checkpoint"] == "last.pt"
    # final.fid was filled by the first score of this run and keeps that protocol
    assert protocol_id(summary["final"]["fid"]["protocol"]) != pid2
    assert summary["status"] == "finished"


def test_eval_input_errors_are_one_line_with_exit_2(trained, tmp_path, capsys):
    assert main(["eval", str(trained / "pngs"), *EVAL]) == 2
    assert "--config: scoring image files needs the run" in capsys.readouterr().err
    Image.new("RGB", (16, 16)).save(tmp_path / "small.png")
    assert main(["eval", str(tmp_path), *EVAL, "--config", str(trained / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert "expected uint8 images of 32x32x3" in err and len(err.splitlines()) == 1
    assert main(["generate", str(tmp_path), "--n", "3", "--out", str(tmp_path / "x")]) == 2
    assert "no checkpoints/best.pt or checkpoints/last.pt" in capsys.readouterr().err
    assert main(["eval", str(trained / "run"), *EVAL, "--set", "model.g_conv=false"]) == 2
    assert "--set: only data.* and eval.* keys can change" in capsys.readouterr().err


def test_eval_set_changes_the_scoring_config_and_the_text_output(trained, capsys):
    assert main(["eval", str(trained / "run"), *EVAL, "--n-gen", "30", "--set",
                 "eval.real_split=test", "--set", "eval.batch_size=10"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("fid: ") and "[digits-cnn, 30 gen vs 200 real] last.pt (32 images seen)" in out[0]
    summary = json.loads((trained / "run/summary.json").read_text())
    splits = {v["protocol"]["real_split"] for v in summary["scores"]["fid"].values()}
    assert "test" in splits and out[-1] == f"written to {trained / 'run/summary.json'}"


def test_a_run_of_a_plugin_preset_needs_and_takes_its_plugin(trained):
    """A fresh process knows only the registered presets: the run's plugin file is passed with
    ``--plugin`` (a run trained with ``plugins:`` records no code of its own)."""
    import subprocess
    import sys

    from train.tiny import PLUGIN

    base = [sys.executable, "-m", "ladabench", "generate", str(trained / "run"), "--n", "2",
            "--quiet", "--out"]
    refused = subprocess.run(base + [str(trained / "a.npz")], capture_output=True, text=True)
    assert refused.returncode == 2 and "unknown preset 'tiny_32'" in refused.stderr
    done = subprocess.run(base + [str(trained / "b.npz"), "--plugin", str(PLUGIN)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert np.load(trained / "b.npz")["arr_0"].shape == (2, 32, 32, 3)


@pytest.mark.parametrize("how, message", [
    ("shape", r"G_ema\.\S+ has shape \(3,\) in the checkpoint, \(\d+(, \d+)*\) in the model of "
              r"this config"),
    ("garbage", r"unreadable checkpoint \(UnpicklingError: [^\n]*\)"),
])
def test_a_checkpoint_that_does_not_fit_is_one_line_exit_2(trained, tmp_path, capsys, how,
                                                            message):
    broken = tmp_path / "last.pt"
    if how == "shape":
        ck = torch.load(trained / "run/checkpoints/last.pt", weights_only=True)
        ck["G_ema"][next(iter(ck["G_ema"]))] = torch.zeros(3)
        torch.save(ck, broken)
    else:
        broken.write_bytes(b"garbage, not a zip or a pickle\n")
    assert main(["generate", str(broken), "--n", "2", "--out", str(tmp_path / "x.npz"),
                 "--quiet"]) == 2
    assert re.fullmatch(rf"ladabench generate: error: {broken}: {message}\n",
                        capsys.readouterr().err)
