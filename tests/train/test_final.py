"""End to end with real metrics (digit CNN protocol): in-loop evaluation every k iterations,
best.pt at the argmin of the logged FIDs, the final protocol on best.pt and on the last EMA
generator, and a report that shows both, labelled."""
from __future__ import annotations

import pytest
import torch

from ladabench.cli import main
from ladabench.config import RunConfig
from ladabench.core.io import read_jsonl
from ladabench.metrics import evaluate
from ladabench.metrics.cache import CACHE_ENV
from ladabench.train import run
from ladabench.train.checkpoint import load_checkpoint
from ladabench.train.trained import load_trained

from .tiny import tiny_overrides


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    root = tmp_path_factory.mktemp("final")
    torch.set_num_threads(1)
    # a large learning rate and a short EMA: the FID wanders, so the best in-loop evaluation
    # is usually not the last one (here: step 5 of 40)
    data = tiny_overrides(images=8 * 40, log_every_images=80, checkpoint_every_images=160,
                          sample_every_images=320, ema_decay=0.5, g_lr=0.05, d_lr=0.05)
    data["eval"] = {"metrics": ["fid"], "extractor": "digits-cnn", "every_iterations": 5,
                    "n_gen": 100, "n_real": 100, "final_n_gen": 150, "final_n_real": 150,
                    "batch_size": 50}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(root / "cache"))
        cfg = RunConfig.model_validate(data)
        summary = run(cfg, root / "run", quiet=True)
        yield root, cfg, summary


def test_best_pt_is_the_argmin_of_the_logged_fids(finished):
    root, _, summary = finished
    evals = [r for r in read_jsonl(root / "run/metrics.jsonl") if r["kind"] == "eval"]
    assert [r["step"] for r in evals] == list(range(5, 41, 5))
    best = min(evals, key=lambda r: r["results"]["fid"]["value"])
    assert load_checkpoint(root / "run/checkpoints/best.pt")["images_seen"] == best["images_seen"]
    assert summary["best"]["fid"]["value"] == best["results"]["fid"]["value"]


def test_final_scores_best_pt_and_final_last_the_last_ema(finished):
    root, cfg, summary = finished
    final, last = summary["final"]["fid"], summary["final_last"]["fid"]
    best_seen = load_checkpoint(root / "run/checkpoints/best.pt")["images_seen"]
    assert (final["checkpoint"], final["images_seen"]) == ("best.pt", best_seen)
    assert (last["checkpoint"], last["images_seen"]) == ("last.pt", 320)
    assert final["protocol"]["n_gen"] == last["protocol"]["n_gen"] == 150
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CACHE_ENV, str(root / "cache"))
        for path, want in (("best.pt", final), ("last.pt", last)):
            g = load_trained(root / "run/checkpoints" / path).generator
            assert evaluate(g, cfg, 150, 150, "cpu")["fid"]["value"] == pytest.approx(
                want["value"], rel=1e-9), path
    if best_seen != 320:  # two different generators were scored
        assert final["value"] != last["value"]


def test_the_report_shows_both_labelled(finished, tmp_path):
    root, _, summary = finished
    out = tmp_path / "r.html"
    assert main(["report", str(root / "run"), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    final, last = summary["final"]["fid"], summary["final_last"]["fid"]
    assert f"{final['value']:.2f} (P1) · best.pt at" in html
    assert f"{last['value']:.2f} (P1) · last EMA at 320" in html
