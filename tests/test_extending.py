"""The plugin files of the extension docs (docs/own_attention.md, docs/own_preset.md,
docs/suites.md) work as written: the attention variant keeps the TokenAttention contract and
its MAC formula, the preset builds, and both run in the example suite and in ``train``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from ladabench.cli.main import main
from ladabench.suite import load_suite
from ladabench.suite.plugins import load_plugin

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"
#: the few steps of a trial (``--smoke`` for the suite; the same for the run config)
SHORT = ["train.batch_size=8", "train.images=32", "train.log_every_images=16",
         "train.sample_every_images=32", "train.checkpoint_every_images=32", "eval.n_gen=64",
         "eval.n_real=64", "eval.final_n_gen=64", "eval.final_n_real=64", "eval.batch_size=64"]


@pytest.fixture(autouse=True)
def _plugins(one_torch_thread):
    for name in ("my_attention.py", "my_preset.py"):
        load_plugin(str(EXAMPLES / name))  # once per process, like a job


@pytest.mark.parametrize("shape", [(2, 8, 64, 4), (1, 16, 32, 2)])
def test_the_attention_plugin_keeps_the_contract_and_counts_its_macs(shape):
    from ladabench import build_attention
    from ladabench.attention.registry import get_attention
    from ladabench.measure.flops import count_flops

    b, g, c, h = shape
    layer = build_attention("linear_elu", c, h, g * g)
    x = torch.randn(b, g * g, c)
    y, attn = layer(x, return_attn=True)
    assert y.shape == x.shape and attn.shape == (b, h, g * g)
    torch.testing.assert_close(layer(x), y)
    # the map averages rows that each sum to 1 over the keys
    torch.testing.assert_close(attn.sum(-1), torch.ones(b, h), rtol=1e-4, atol=1e-4)
    assert count_flops(layer, x).macs == layer.macs(b)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(x)
    assert counter.get_total_flops() == 2 * layer.macs(b)
    assert get_attention("linear_elu").count_macs(b, g * g, c, h) == layer.macs(b)


def test_the_example_suite_runs_both_plugins(tmp_path, capsys):
    suite = load_suite(EXAMPLES / "my_suite.yaml")
    assert {r.config.model.g_attention for r in suite.runs} == {"lada", "linear_elu"}
    assert len(suite.runs) == 4
    results = tmp_path / "results"
    assert main(["run", str(EXAMPLES / "my_suite.yaml"), "--smoke", "--executor", "debug",
                 "--quiet", "--results", str(results)]) == 0
    summaries = [json.loads(p.read_text()) for p in results.rglob("summary.json")]
    assert len(summaries) == 4
    assert {s["status"] for s in summaries} == {"finished"}
    assert all(s["final"]["fid"]["protocol"]["extractor"] == "digits-cnn" for s in summaries)


def test_the_example_run_config_trains_with_both_plugins(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", str(EXAMPLES / "my_run.yaml"), "--out", str(out), "--quiet",
                 "--device", "cpu", *[a for s in SHORT for a in ("--set", s)]])
    err = capsys.readouterr().err
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "finished" and summary["images_seen"] == 32


def test_the_python_api_reads_the_run_files_plugins(tmp_path):
    """In a fresh process (no plugin imported yet), as a script calling the API would be."""
    out = tmp_path / "run"
    script = (f"import ladabench; s = ladabench.train_config({str(EXAMPLES / 'my_run.yaml')!r}, "
              f"{str(out)!r}, sets={SHORT!r}, quiet=True); print(s['status'], s['images_seen'])")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["finished", "32"]
