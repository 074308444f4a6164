"""Data-parallel training on real gloo processes (docs/distributed.md): the same weights as one
process with the global batch, runs resumed at another world size, rank 0 alone writing.

How the random streams are made comparable: the runs use ``train.rank_streams: sliced``, in
which each rank draws the latents and DiffAugment parameters of the WHOLE global batch from the
seed's one stream (the calls one process makes, with the same shapes, so the same numbers) and
keeps its slice; the data sampler gives rank r the same slice of the same global batch. So
sample i meets the same image, latent and augmentation in both runs, and what remains to be
equal is the maths: half batches per rank, BatchNorm over the global batch (SyncBatchNorm2d),
gradients averaged by DistributedDataParallel, R1's double backward, Adam, the EMA.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from ladabench.config import RunConfig
from ladabench.core.io import read_jsonl
from ladabench.train import run
from ladabench.metrics import evaluate
from ladabench.metrics.cache import CACHE_ENV
from ladabench.train.checkpoint import load_checkpoint
from ladabench.train.trained import load_trained

from .ranks import free_port, launcher_env, on_ranks
from .test_engine import _assert_same_state
from .tiny import register_tiny, tiny_overrides

STEPS = 6
#: 6 steps of a global batch of 8, R1 every step, DiffAugment color + translation (defaults)
TRAIN = dict(images=8 * STEPS, rank_streams="sliced", keep_optimizer_state=True, ema_decay=0.5,
             checkpoint_every_images=8 * 3, log_every_images=8 * 3)
#: float tolerance: 2 ranks sum the batch in two halves, one process in one go; Adam divides by
#: the gradient's RMS, so a rounding-level difference in a near-zero gradient can move a weight
#: by a part of the learning rate (2e-4). Measured: at most 2.3e-5 (G), 4.9e-6 (D); the wrong
#: variants differ by 2e-3 or more
TOL = dict(rtol=1e-4, atol=1e-4)


#: a cheap evaluation (digit CNN FID): of the untrained EMA generator, then the final protocol
EVAL = {"metrics": ["fid"], "extractor": "digits-cnn", "at_images": [0], "every_images": 0,
        "n_gen": 100, "n_real": 100, "final_n_gen": 100, "final_n_real": 100, "batch_size": 50}


def _cfg(eval: dict | None = None, **train) -> RunConfig:
    data = tiny_overrides(**{**TRAIN, **train})
    if eval is not None:
        data["eval"] = eval
    return RunConfig.model_validate(data)


def _stop_after(steps: int):
    """A stop request that fires at the boundary after ``steps`` steps (polled once a step)."""
    calls = iter(range(1, 10**6))
    return lambda: next(calls) >= steps


def _poisoned_step(step: int):
    """A train step that, on rank 1 only, writes NaN into the statistics of ``step``."""
    from ladabench.train.loop import Trainer

    original = Trainer.train_step

    def train_step(self, real):
        original(self, real)
        if self.dist.rank == 1 and self.step + 1 == step:
            self.log.rows[-1] = self.log.rows[-1] * float("nan")

    return train_step


def _rank_jobs(jobs: list[dict]) -> list[dict]:
    """On each rank: train each job's config into its folder (a fresh process group per job),
    optionally without DistributedDataParallel (the gradients are then not averaged) or with
    rank 1's statistics poisoned at a step."""
    import ladabench.train.setup as setup
    from ladabench.train.loop import Trainer

    register_tiny()
    summaries = []
    for job in jobs:
        os.environ.update(MASTER_PORT=str(job["port"]), **job.get("env", {}))
        averaging, step = setup._data_parallel, Trainer.train_step
        if job.get("no_averaging"):
            setup._data_parallel = lambda module, device: module
        if job.get("poison"):
            Trainer.train_step = _poisoned_step(job["poison"])
        try:
            stop = _stop_after(job["stop_after"]) if job.get("stop_after") else None
            cfg = _cfg(job.get("eval"), **job.get("train", {}))
            summaries.append(run(cfg, job["out"], quiet=True, should_stop=stop))
        finally:
            setup._data_parallel, Trainer.train_step = averaging, step
    return summaries


def _state(out: Path) -> dict:
    return load_checkpoint(out / "checkpoints" / "last.pt")


def _assert_close_states(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] and a["images_seen"] == b["images_seen"]
    for key in ("G", "D", "G_ema"):
        for name, t in a[key].items():
            torch.testing.assert_close(t, b[key][name], **TOL, msg=lambda m: f"{key}.{name}: {m}")


def _max_difference(a: dict, b: dict, key: str) -> float:
    return max((t.double() - b[key][n].double()).abs().max().item()
               for n, t in a[key].items() if t.is_floating_point())


@pytest.fixture(scope="module")
def one_process(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("single")
    run(_cfg(), out, quiet=True)
    return _state(out)


def _evaluations(out: Path) -> list[dict]:
    return [r["results"] for r in read_jsonl(out / "metrics.jsonl") if r["kind"] == "eval"]


@pytest.mark.slow
def test_two_processes_train_the_weights_of_one_process_with_the_global_batch(one_process,
                                                                              tmp_path):
    """2 ranks × 4 samples = 1 process × 8 samples (G, D, EMA G after 6 steps, within float
    tolerance); without averaging the gradients, or with per-rank BatchNorm, they differ; a
    checkpoint of the 2 ranks, resumed by one process, ends at the same weights too; a
    divergence seen by one rank stops both. Checkpoints move between world sizes: 2 → 1 and
    1 → 2 ranks end at the weights of one uninterrupted process."""
    grown = run(_cfg(), tmp_path / "grow", quiet=True, should_stop=_stop_after(3))
    assert grown["status"] == "interrupted" and grown["step"] == 3
    jobs = [
        {"out": str(tmp_path / "ddp")},
        {"out": str(tmp_path / "no_avg"), "no_averaging": True},
        {"out": str(tmp_path / "no_sync"), "train": {"sync_batchnorm": False}},
        {"out": str(tmp_path / "half"), "stop_after": 3},
        {"out": str(tmp_path / "nan"), "poison": 2},
        {"out": str(tmp_path / "grow")},  # resumes the 1-process checkpoint on 2 ranks
    ]
    for job in jobs:
        job["port"] = free_port()
    summaries = on_ranks(2, tmp_path / "ranks", _rank_jobs, jobs)
    assert [s["status"] for s in summaries[0]] == ["finished"] * 3 + ["interrupted", "diverged", "finished"]
    assert summaries[1] == summaries[0]  # every rank returns rank 0's summary
    assert summaries[0][0]["world_size"] == 2
    # a non-finite statistic on rank 1 alone: both ranks stop at the end of that interval
    assert summaries[0][4]["diverged_at"] == {"step": 2, "images_seen": 16}

    ddp = _state(tmp_path / "ddp")
    _assert_close_states(ddp, one_process)
    for wrong in ("no_avg", "no_sync"):
        assert _max_difference(_state(tmp_path / wrong), one_process, "D") > 5 * TOL["atol"]

    half = _state(tmp_path / "half")
    assert half["step"] == 3 and len(half["rng_ranks"]) == 2
    resumed = run(_cfg(), tmp_path / "half", quiet=True)  # world size 2 → 1, same global batch
    assert resumed["status"] == "finished" and resumed["world_size"] == 1
    _assert_close_states(_state(tmp_path / "half"), one_process)
    assert summaries[0][5]["world_size"] == 2
    _assert_close_states(_state(tmp_path / "grow"), one_process)


@pytest.mark.slow
def test_rank_0_evaluates_what_one_process_evaluates(monkeypatch, tmp_path):
    """The evaluations of a 2-process run (rank 0 generates and scores, rank 1 waits): the
    untrained EMA generator's FID is one process's (same weights, same evaluation seeds), and
    the final FID is what one process computes for the run's last EMA generator."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    jobs = [{"out": str(tmp_path / "ddp"), "eval": EVAL, "port": free_port(),
             "env": {CACHE_ENV: str(tmp_path / "cache")}}]
    (two,), _ = on_ranks(2, tmp_path / "ranks", _rank_jobs, jobs)
    single = run(_cfg(EVAL), tmp_path / "single", quiet=True)
    assert _evaluations(tmp_path / "ddp")[0] == _evaluations(tmp_path / "single")[0]
    trained = load_trained(tmp_path / "ddp" / "checkpoints" / "last.pt", torch.device("cpu"))
    again = evaluate(trained.generator, trained.cfg, n_gen=100, n_real=100,
                     device=torch.device("cpu"))
    assert two["final_last"]["fid"]["value"] == again["fid"]["value"]
    assert two["final_last"]["fid"]["value"] != single["final_last"]["fid"]["value"]



# ---- real rank processes (tests/train/train_child.py with a launcher's environment) --------
HERE = Path(__file__).parent
#: 20 steps of 8, a checkpoint every 5 (own streams: the default)
FAULT_TRAIN = dict(images=8 * 20, checkpoint_every_images=8 * 5, log_every_images=8 * 5,
                   keep_optimizer_state=True)


def _config_file(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(RunConfig.model_validate(tiny_overrides(**FAULT_TRAIN))
                                   .to_dict()))
    return path


def _start_ranks(cfg: Path, out: Path, fault_rank1: tuple[str, ...] = ()) -> list[subprocess.Popen]:
    """Rank 0 and rank 1 of one run as ``ladabench train`` processes; rank 1 may carry a
    fault (train_child.py's ACTION STEP)."""
    port = free_port()
    procs = []
    for rank, fault in ((0, ()), (1, fault_rank1)):
        env = {**os.environ, **launcher_env(rank, 2, port), "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen(
            [sys.executable, str(HERE / "train_child.py"), str(cfg), str(out), *fault],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return procs


def _finish(procs: list[subprocess.Popen], timeout: float = 300) -> list[tuple[int, str]]:
    return [(p.wait(timeout=timeout), p.communicate()[1]) for p in procs]


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


@pytest.mark.slow
def test_a_killed_rank_fails_the_run_clearly_the_checkpoint_stays_and_a_rerun_resumes(tmp_path):
    cfg, out = _config_file(tmp_path), tmp_path / "run"
    rank0, rank1 = _start_ranks(cfg, out, ("hold", "13"))  # rank 1 stops inside step 13
    deadline = time.monotonic() + 300
    while not Path(f"{out}.held").exists():
        assert time.monotonic() < deadline and rank1.poll() is None
        time.sleep(0.1)
    rank1.kill()
    start = time.monotonic()
    code, err = _finish([rank0], timeout=60)[0]  # no hang: the peer's socket closed
    assert code == 1 and time.monotonic() - start < 60
    summary = _summary(out)
    assert summary["status"] == "failed" and "\n" not in summary["error"]
    # gloo names the dead peer's socket as closed or reset, depending on where rank 0 was
    assert re.search(r"Connection (closed|reset) by peer", summary["error"]), summary["error"]
    assert summary["last_checkpoint"] == {"step": 10, "images_seen": 80}
    assert load_checkpoint(out / "checkpoints" / "last.pt")["step"] == 10

    results = _finish(_start_ranks(cfg, out))
    assert [c for c, _ in results] == [0, 0], results[0][1][-2000:]
    summary = _summary(out)
    assert summary["status"] == "finished" and summary["step"] == 20
    resumes = [r for r in read_jsonl(out / "metrics.jsonl") if r.get("event") == "resume"]
    assert [r["from_step"] for r in resumes] == [10]


@pytest.mark.slow
def test_a_signal_to_one_rank_stops_all_at_the_same_step_and_the_resume_is_exact(tmp_path):
    """SIGTERM reaches rank 1 only: both ranks checkpoint after the same step and exit 143;
    the resumed run (each rank's own random stream restored from ``rng_ranks``) ends bit for
    bit where an uninterrupted 2-process run ends."""
    cfg = _config_file(tmp_path)
    stopped, straight = tmp_path / "stopped", tmp_path / "straight"
    results = _finish(_start_ranks(cfg, stopped, ("SIGTERM", "7")))
    assert [c for c, _ in results] == [143, 143], results[0][1][-2000:]
    summary = _summary(stopped)
    assert summary["status"] == "interrupted" and summary["stopped_by"] == "SIGTERM"
    ck = load_checkpoint(stopped / "checkpoints" / "last.pt")
    assert ck["step"] == 7 and len(ck["rng_ranks"]) == 2
    assert not torch.equal(ck["rng_ranks"][0]["torch"], ck["rng_ranks"][1]["torch"])

    both = _finish(_start_ranks(cfg, stopped)) + _finish(_start_ranks(cfg, straight))
    assert [c for c, _ in both] == [0] * 4, both[0][1][-2000:]
    _assert_same_state(_state(stopped), _state(straight))
