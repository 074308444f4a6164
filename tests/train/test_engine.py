"""End-to-end runs of a tiny 32×32 Lada GAN on the embedded digits (CPU)."""
from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from ladabench.config import RunConfig
from ladabench.core.errors import ConfigError, DataError
from ladabench.core.io import read_jsonl
from ladabench.measure.flops import count_params
from ladabench.train import run
from ladabench.train.checkpoint import load_checkpoint
from ladabench.config import prepare_run_dir
from ladabench.train.sampler import EpochBatchSampler

from .tiny import tiny_overrides

HERE = Path(__file__).parent
# 40 steps of 8 images; checkpoints every 10 steps, logs every 5
SCHEDULE = dict(images=320, log_every_images=40, checkpoint_every_images=80, sample_every_images=160)
#: the reference run's settings: EMA decay 0.9 so 40 steps visibly move the samples, and the
#: optimiser state kept at the end so that resumed runs can be compared with it in full
REF = dict(ema_decay=0.9, keep_optimizer_state=True)


def _cfg(**train) -> RunConfig:
    return RunConfig.model_validate(tiny_overrides(**{**SCHEDULE, **train}))


def _assert_same_state(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] and a["images_seen"] == b["images_seen"]
    for key in ("G", "D", "G_ema"):
        for name, t in a[key].items():
            assert torch.equal(t, b[key][name]), f"{key}.{name}"
    for key in ("opt_G", "opt_D"):
        for i, st in a[key]["state"].items():
            for name, t in st.items():
                assert torch.equal(t, b[key]["state"][i][name]), f"{key}[{i}].{name}"


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted tiny run with the REF settings."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("ref")
    summary = run(_cfg(**REF), out, quiet=True)
    return out, summary


def test_tiny_run_trains_and_writes_the_run_directory(reference):
    out, summary = reference
    assert summary["status"] == "finished" and summary["step"] == 40 and summary["images_seen"] == 320
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "provenance.json", "checkpoints/last.pt",
                 "samples/real.png", "samples/grid_000000000160.png", "samples/attn_000000000320.png",
                 "samples/attn_000000000320.npz"):
        assert (out / name).is_file(), name
    train = [r for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"]
    assert [r["images_seen"] for r in train] == list(range(40, 321, 40))
    for r in train:
        assert all(math.isfinite(r[k]) for k in ("loss/G", "loss/D", "r1", "grad_norm/G", "grad_norm/D"))
        assert "grad_norm/G/stage8.block" in r and "grad_norm_mean/D" in r
    early = np.load(out / "samples/attn_000000000160.npz")
    late = np.load(out / "samples/attn_000000000320.npz")
    assert early["stage0"].shape == (2, 2, 64) and late["stage2"].shape == (2, 2, 1024)
    assert np.abs(early["images"].astype(float) - late["images"]).mean() > 2.0  # grey levels


def test_summary_records_costs_and_provenance(reference):
    out, summary = reference
    assert json.loads((out / "summary.json").read_text()) == summary
    cfg = RunConfig.model_validate(yaml.safe_load((out / "config.yaml").read_text()))
    assert summary["config_hash"] == cfg.config_hash() == _cfg(**REF).config_hash()
    from ladabench.models import build_discriminator, build_generator

    assert summary["params"] == {"G": count_params(build_generator(cfg.model, 16)),
                                 "D": count_params(build_discriminator(cfg.model))}
    macs = summary["macs"]
    assert summary["train_macs_total"] == 3 * (macs["G"] + macs["D"]) * 320
    prov = (out / "provenance.json").read_bytes()
    assert summary["provenance_sha256"] == hashlib.sha256(prov).hexdigest()
    p = json.loads(prov)
    assert p["seed"] == 0 and p["config_hash"] == cfg.config_hash() and p["packages"]["torch"]
    assert summary["img_per_s"] > 0 and summary["peak_memory_bytes"] > 0


def test_should_stop_interrupts_and_the_resumed_run_equals_the_reference(reference, tmp_path):
    calls = iter(range(1, 100))
    first = run(_cfg(**REF), tmp_path, quiet=True, should_stop=lambda: next(calls) == 13)
    assert first["status"] == "interrupted" and first["step"] == 13
    second = run(_cfg(**REF), tmp_path, quiet=True)
    assert second["status"] == "finished"
    events = [r["event"] for r in read_jsonl(tmp_path / "metrics.jsonl") if r["kind"] == "event"]
    assert "resume" in events
    _assert_same_state(load_checkpoint(tmp_path / "checkpoints/last.pt"),
                       load_checkpoint(reference[0] / "checkpoints/last.pt"))


def test_sigkill_mid_run_then_resume_equals_the_uninterrupted_run(reference, tmp_path):
    cfg_file = tmp_path / "cfg.yaml"
    cfg_file.write_text(yaml.safe_dump(_cfg(**REF).to_dict()))
    out = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = subprocess.run([sys.executable, str(HERE / "run_and_kill.py"), str(cfg_file), str(out), "27"],
                            env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert load_checkpoint(out / "checkpoints/last.pt")["step"] == 20  # steps 21-27 were lost
    assert json.loads((out / "summary.json").read_text())["status"] == "running"
    resumed = subprocess.run([sys.executable, str(HERE / "run_and_kill.py"), str(cfg_file), str(out), "0"],
                             env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    _assert_same_state(load_checkpoint(out / "checkpoints/last.pt"),
                       load_checkpoint(reference[0] / "checkpoints/last.pt"))


class _NaNAt(torch.utils.data.Dataset):
    """The digits with one image replaced by NaN (a corrupted sample)."""

    def __init__(self, base, index: int) -> None:
        self.base, self.index = base, index

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> torch.Tensor:
        x = self.base[i]
        return torch.full_like(x, math.nan) if i == self.index else x


def test_injected_nan_marks_the_run_diverged_at_that_step(tmp_path, monkeypatch):
    import ladabench.data

    real_build = ladabench.data.build_dataset
    base = real_build(_cfg().data)
    bad = EpochBatchSampler(len(base), 8, seed=0).batch_indices(22)[3]  # read at step 23
    monkeypatch.setattr(ladabench.data, "build_dataset", lambda cfg: _NaNAt(real_build(cfg), bad))
    summary = run(_cfg(), tmp_path, quiet=True)
    assert summary["status"] == "diverged"
    assert summary["diverged_at"] == {"step": 23, "images_seen": 184}
    assert summary["step"] == 25  # stopped at the end of the log interval (one sync per interval)
    last = load_checkpoint(tmp_path / "checkpoints/last.pt")
    assert last["step"] == 20  # the last good checkpoint, not overwritten by the NaN state
    assert all(torch.isfinite(t).all() for t in last["G"].values())
    events = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if r.get("event") == "diverged"]
    assert [(e["step"], e["images_seen"]) for e in events] == [(23, 184)]


def test_an_exception_marks_the_run_failed_with_one_line(tmp_path, monkeypatch):
    from ladabench.train.loop import Trainer

    def boom(self, real):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(Trainer, "train_step", boom)
    with pytest.raises(RuntimeError):
        run(_cfg(), tmp_path, quiet=True)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == "RuntimeError: boom"


def test_a_failure_after_training_keeps_the_images_seen_and_the_step(tmp_path, monkeypatch):
    """The final evaluation failing (an offline Inception FID once did, after training) leaves
    the summary with what was trained and checkpointed, not step 0."""
    from ladabench.train import engine

    def no_weights(*args, **kwargs):
        raise DataError("Inception weights for FID/KID not found")

    monkeypatch.setattr(engine, "final_scores", no_weights)
    data = tiny_overrides(images=8 * 4, log_every_images=8 * 2, checkpoint_every_images=8 * 4)
    data["eval"] = {"metrics": ["fid"], "extractor": "digits-cnn", "every_images": 0}
    with pytest.raises(DataError):
        run(RunConfig.model_validate(data), tmp_path, quiet=True)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert (summary["status"], summary["step"], summary["images_seen"]) == ("failed", 4, 32)
    assert summary["error"] == "DataError: Inception weights for FID/KID not found"
    assert summary["last_checkpoint"] == {"step": 4, "images_seen": 32}


def test_a_run_directory_refuses_another_config(tmp_path):
    prepare_run_dir(_cfg(), tmp_path)
    with pytest.raises(ConfigError, match=r"config.yaml: this run directory holds config hash \w{12}, "
                                          r"the requested config has hash \w{12}"):
        prepare_run_dir(_cfg(g_lr=1e-3), tmp_path)
    prepare_run_dir(_cfg(device="cpu"), tmp_path)  # machine keys do not change the experiment


def test_in_training_eval_keeps_the_best_fid_and_leaves_training_untouched(reference, tmp_path,
                                                                           monkeypatch):
    """Evaluations (every 10 steps here) use forked RNG: the trained state equals the reference."""
    import ladabench.metrics

    values = iter([5.0, 3.0, 4.0, 6.0, 2.5, 2.8])  # 4 in-training evals, last EMA, best.pt
    scored = []

    def fake_evaluate(generator, cfg, n_gen, n_real, device):
        torch.randn(100)  # draws from the global RNG, as a real evaluation does
        assert not generator.training and (n_gen, n_real) in ((7, 9), (11, 13))
        scored.append({k: t.clone() for k, t in generator.state_dict().items()})
        return {"fid": {"value": next(values), "std": None, "protocol": {"n_gen": n_gen}}}

    monkeypatch.setattr(ladabench.metrics, "evaluate", fake_evaluate)
    data = tiny_overrides(**SCHEDULE, **REF)
    data["eval"] = {"metrics": ["fid"], "every_images": 80, "n_gen": 7, "n_real": 9,
                    "final_n_gen": 11, "final_n_real": 13}
    summary = run(RunConfig.model_validate(data), tmp_path, quiet=True)
    evals = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if r["kind"] == "eval"]
    assert [(r["images_seen"], r["results"]["fid"]["value"]) for r in evals] == [
        (80, 5.0), (160, 3.0), (240, 4.0), (320, 6.0)]
    assert summary["best"]["fid"]["value"] == 3.0 and summary["best"]["fid"]["images_seen"] == 160
    assert load_checkpoint(tmp_path / "checkpoints/best.pt")["images_seen"] == 160
    # the final protocol scores the selected checkpoint (best.pt) and the last EMA generator
    assert summary["final"]["fid"] == {"value": 2.8, "std": None, "protocol": {"n_gen": 11},
                                       "images_seen": 160, "checkpoint": "best.pt"}
    assert summary["final_last"]["fid"] == {"value": 2.5, "std": None, "protocol": {"n_gen": 11},
                                            "images_seen": 320, "checkpoint": "last.pt"}
    best, last = (load_checkpoint(tmp_path / f"checkpoints/{n}.pt") for n in ("best", "last"))
    assert all(torch.equal(t, best["G_ema"][k]) for k, t in scored[-1].items())
    assert all(torch.equal(t, last["G_ema"][k]) for k, t in scored[-2].items())
    assert not all(torch.equal(t, last["G_ema"][k]) for k, t in scored[-1].items())
    _assert_same_state(load_checkpoint(tmp_path / "checkpoints/last.pt"),
                       load_checkpoint(reference[0] / "checkpoints/last.pt"))


def test_an_iteration_schedule_evaluates_every_k_steps_and_a_best_last_step_is_scored_once(
        tmp_path, monkeypatch):
    import ladabench.metrics

    values = iter([4.0, 3.0, 2.0])  # evaluations at steps 20 and 40, then one final score

    def fake_evaluate(generator, cfg, n_gen, n_real, device):
        return {"fid": {"value": next(values), "std": None, "protocol": {"n_gen": n_gen}}}

    monkeypatch.setattr(ladabench.metrics, "evaluate", fake_evaluate)
    data = tiny_overrides(**SCHEDULE)
    data["eval"] = {"metrics": ["fid"], "every_iterations": 20, "n_gen": 7, "n_real": 9,
                    "final_n_gen": 11, "final_n_real": 13}
    summary = run(RunConfig.model_validate(data), tmp_path, quiet=True)
    evals = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if r["kind"] == "eval"]
    assert [(r["step"], r["images_seen"]) for r in evals] == [(20, 160), (40, 320)]
    assert summary["best"]["fid"]["images_seen"] == 320
    assert summary["final"]["fid"]["value"] == summary["final_last"]["fid"]["value"] == 2.0
    assert summary["final"]["fid"]["checkpoint"] == "best.pt"
    assert summary["final_last"]["fid"]["checkpoint"] == "last.pt"


def test_without_in_training_evaluation_final_is_the_last_generator(tmp_path, monkeypatch):
    import ladabench.metrics

    monkeypatch.setattr(ladabench.metrics, "evaluate", lambda generator, cfg, n_gen, n_real,
                        device: {"fid": {"value": 1.5, "std": None, "protocol": {}}})
    data = tiny_overrides(**SCHEDULE)
    data["eval"] = {"metrics": ["fid"], "every_images": 0, "final_n_gen": 7, "final_n_real": 9}
    summary = run(RunConfig.model_validate(data), tmp_path, quiet=True)
    assert not (tmp_path / "checkpoints/best.pt").exists()
    assert summary["final"] == summary["final_last"] == {"fid": {
        "value": 1.5, "std": None, "protocol": {}, "images_seen": 320, "checkpoint": "last.pt"}}


def test_steady_state_img_per_s_is_the_median_interval_rate_without_warm_up(reference):
    out, summary = reference
    rates = [r["img_per_s"] for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "train"]
    assert len(rates) == 8
    assert summary["img_per_s"] == pytest.approx(statistics.median(rates[1:]))


def _state_bytes(state: dict) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


def test_a_finished_run_keeps_the_models_without_optimiser_state(reference, tmp_path):
    """Disk use of a finished run: last.pt = G + D + EMA (+ counters), best.pt = EMA only."""
    data = tiny_overrides(**SCHEDULE, ema_decay=0.9)
    data["eval"] = {"metrics": ["fid"], "every_images": 160, "n_gen": 7, "n_real": 9,
                    "final_n_gen": 7, "final_n_real": 9}
    import ladabench.metrics

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ladabench.metrics, "evaluate", lambda generator, cfg, n_gen, n_real, device: {
            "fid": {"value": 1.0, "std": None, "protocol": {}}})
        summary = run(RunConfig.model_validate(data), tmp_path, quiet=True)
    assert summary["status"] == "finished"
    last = load_checkpoint(tmp_path / "checkpoints/last.pt")
    assert set(last) & {"opt_G", "opt_D", "rng"} == set()
    model_bytes = sum(_state_bytes(last[k]) for k in ("G", "D", "G_ema"))
    # serialisation overhead (per-tensor headers, config, counters) is small; Adam would add 2×
    assert (tmp_path / "checkpoints/last.pt").stat().st_size < 1.1 * model_bytes + 64_000
    best = load_checkpoint(tmp_path / "checkpoints/best.pt")
    assert "G_ema" in best and set(best) & {"G", "D", "opt_G", "opt_D"} == set()
    assert (tmp_path / "checkpoints/best.pt").stat().st_size < 1.1 * _state_bytes(best["G_ema"]) + 64_000
    # the same weights as the reference run, which kept its optimiser state
    ref = load_checkpoint(reference[0] / "checkpoints/last.pt")
    assert {"opt_G", "opt_D", "rng"} <= set(ref)
    for key in ("G", "D", "G_ema"):
        assert all(torch.equal(t, ref[key][name]) for name, t in last[key].items()), key
    assert (reference[0] / "checkpoints/last.pt").stat().st_size > 1.5 * model_bytes


def test_a_time_budget_stops_training_and_is_recorded(reference, tmp_path):
    cfg = _cfg(images=8 * 100_000, time_budget_s=1.0)
    summary = run(cfg, tmp_path, quiet=True)
    assert summary["status"] == "finished" and summary["stopped_by"] == "time_budget"
    assert 0 < summary["images_seen"] < 8 * 100_000
    assert 1.0 <= summary["train_seconds"] <= summary["wall_time_s"]
    assert 0 < summary["train_cpu_seconds"]
    tag = f"{summary['images_seen']:012d}"
    assert (tmp_path / "samples" / f"grid_{tag}.png").is_file()  # the last state is sampled
    assert load_checkpoint(tmp_path / "checkpoints/last.pt")["images_seen"] == summary["images_seen"]
    assert run(cfg, tmp_path, quiet=True) == summary  # a finished run is left as it is
    assert reference[1]["stopped_by"] == "images"
    on_cpu = run(cfg.model_copy(update={"train": cfg.train.model_copy(
        update={"time_budget_clock": "cpu"})}), tmp_path / "cpu", quiet=True)
    assert on_cpu["stopped_by"] == "time_budget" and on_cpu["train_cpu_seconds"] >= 1.0


def test_evaluations_at_given_images_start_with_the_untrained_generator(reference, tmp_path,
                                                                       monkeypatch):
    import ladabench.metrics

    seen = []

    def fake_evaluate(generator, cfg, n_gen, n_real, device):
        torch.randn(10)
        seen.append(generator.state_dict()["ch_conv.bias"].clone())
        return {"fid": {"value": 10.0 - len(seen), "std": None, "protocol": {}}}

    monkeypatch.setattr(ladabench.metrics, "evaluate", fake_evaluate)
    data = tiny_overrides(**SCHEDULE, **REF)
    data["eval"] = {"metrics": ["fid"], "every_images": 0, "at_images": [160, 0, 40],
                    "n_gen": 7, "n_real": 9, "final_n_gen": 7, "final_n_real": 9}
    run(RunConfig.model_validate(data), tmp_path, quiet=True)
    evals = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if r["kind"] == "eval"]
    assert [(r["step"], r["images_seen"]) for r in evals] == [(0, 0), (5, 40), (20, 160)]
    assert not torch.equal(seen[0], seen[1])  # the first evaluation saw the untrained EMA
    _assert_same_state(load_checkpoint(tmp_path / "checkpoints/last.pt"),
                       load_checkpoint(reference[0] / "checkpoints/last.pt"))


@pytest.mark.slow
def test_a_few_hundred_steps_at_paper_settings_stay_finite_and_move_the_ema(tmp_path):
    cfg = RunConfig.model_validate(tiny_overrides(
        images=8 * 300, log_every_images=8 * 50, checkpoint_every_images=8 * 300,
        sample_every_images=8 * 100))
    summary = run(cfg, tmp_path, quiet=True)
    assert summary["status"] == "finished" and summary["images_seen"] == 2400
    train = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if r["kind"] == "train"]
    assert all(math.isfinite(r["loss/D"]) and math.isfinite(r["loss/G"]) for r in train)
    spikes = [r for r in read_jsonl(tmp_path / "metrics.jsonl") if r.get("event") == "spike"]
    assert summary["spikes"] == len(spikes)  # spikes are logged and counted, the run goes on
    first = np.load(tmp_path / "samples/attn_000000000800.npz")["images"].astype(float)
    last = np.load(tmp_path / "samples/attn_000000002400.npz")["images"].astype(float)
    assert np.abs(first - last).mean() > 2.0
