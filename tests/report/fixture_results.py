"""Fixture results folders written per architecture.md contracts 1–4 (config.yaml from a real
RunConfig, summary.json, provenance.json in ladabench.train.provenance's layout, metrics.jsonl), plus
sample grids, attention maps and a scaling CSV.

Suite ``bench`` (CIFAR-10 protocol; final values from ``best.pt`` at 768k images, the last EMA
generator's 0.4 higher): lada × seeds 0–2 finished + seed 3 running (named with a
``<script>`` tag), dot_product × seeds 0–1 finished (data-parallel: ``world_size`` 2; the
other summaries predate the key), linformer seed 0 diverged, linformer seed 1 with a truncated
summary.json. Suite ``digits``: lada × seeds 0–1 with the non-standard
digits-cnn protocol. ``FIXTURE`` holds the numbers the tests check against.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from ladabench.config import RunConfig
from ladabench.core.rundir import RunDir, RunLock

LIB = "torch-fidelity 0.4.0"
P_FINAL = {"metric": "fid", "extractor": "inception-v3-compat", "weights_sha256": "6726825d",
           "n_gen": 50000, "n_real": 50000, "real_split": "train", "dataset": "cifar10",
           "resolution": 32, "standard": True, "library": LIB}
P_KID = {**P_FINAL, "metric": "kid"}
P_TRAIN = {**P_FINAL, "n_gen": 2500, "n_real": 2500}
P_DIGITS = {"metric": "fid", "extractor": "digits-cnn", "weights_sha256": "ab12", "n_gen": 500,
            "n_real": 500, "real_split": "train", "dataset": "digits", "resolution": 32,
            "standard": False, "library": "ladabench 0.1.0"}
SCRIPT_NAME = '<script>alert("x")</script>'

# (suite, attention, seed, status, final fid, final kid, img/s)
RUNS = [
    ("bench", "lada", 0, "finished", 3.1, 0.0021, 410.0),
    ("bench", "lada", 1, "finished", 3.5, 0.0025, 400.0),
    ("bench", "lada", 2, "finished", 3.3, 0.0023, 390.0),
    ("bench", "lada", 3, "running", None, None, 405.0),
    ("bench", "dot_product", 0, "finished", 4.0, 0.0030, 250.0),
    ("bench", "dot_product", 1, "finished", 4.4, 0.0034, 260.0),
    ("bench", "linformer", 0, "diverged", None, None, 300.0),
    ("bench", "linformer", 1, "corrupt", None, None, 300.0),
    ("digits", "lada", 0, "finished", 21.0, None, 900.0),
    ("digits", "lada", 1, "finished", 23.0, None, 910.0),
]
PARAMS_G = {"lada": 19_901_647, "dot_product": 19_950_000, "linformer": 19_960_000}
MACS_G = {"lada": 758_349_824, "dot_product": 901_000_000, "linformer": 770_000_000}
IMAGES = 1_024_000
#: the bench runs' selected checkpoint (best.pt) and their last EMA generator's FID offset
BEST_IMAGES = 768_000
LAST_FID_OFFSET = 0.4
WALL_S = 7200.0
#: processes that trained each dot_product run (the others: one, unrecorded)
DOT_WORLD_SIZE = 2
DIVERGED_AT = 512_000


def _config(suite: str, attn: str, seed: int, name: str) -> RunConfig:
    """The run's config; a hostile ``name`` (a hand-edited results file: the schema refuses it)
    is put in after validation, so the readers and the report meet it as data."""
    data = {"name": "run", "suite": suite,
            "model": {"g_attention": attn, "d_attention": attn},
            "data": {"name": "cifar10" if suite == "bench" else "digits"},
            "train": {"seed": seed, "images": IMAGES}}
    return RunConfig.model_validate(data).model_copy(update={"name": name})


def _lines(attn: str, seed: int, status: str, protocol: dict) -> list[dict]:
    """metrics.jsonl: 4 train lines, 2 in-training evals; the diverged run spikes then NaNs."""
    lines = []
    for i in range(1, 5):
        seen = i * 256_000
        g, d = (1.0 + 0.1 * i, 2.0 + 0.1 * i)
        if status == "diverged" and seen >= DIVERGED_AT:
            g, d = (400.0, 900.0)
        lines.append({"kind": "train", "step": i * 2000, "images_seen": seen,
                      "wall_time_s": 1800.0 * i, "loss/G": 1.0, "loss/D": 1.2,
                      "grad_norm/G": g, "grad_norm/D": d, "img_per_s": 400.0})
        if i % 2 == 0 and status != "diverged":
            lines.append({"kind": "eval", "step": i * 2000, "images_seen": seen,
                          "wall_time_s": 1800.0 * i, "results": {"fid": {
                              "value": (30.0 + len(attn) + seed) / i, "std": None,
                              "protocol": protocol}}})
    if status == "diverged":
        lines.append({"kind": "event", "event": "spike", "step": 4000, "images_seen": DIVERGED_AT,
                      "wall_time_s": 3600.0, "name": "grad_norm/D", "value": 900.0,
                      "median": 2.2})
        lines.append({"kind": "event", "event": "diverged", "step": 4000,
                      "images_seen": DIVERGED_AT, "wall_time_s": 3600.0, "reason": "nan loss"})
    return lines


def _summary(cfg: RunConfig, run_id: str, row: tuple) -> dict:
    """bench runs: final values from best.pt (at BEST_IMAGES), final_last from the last EMA
    (FID + LAST_FID_OFFSET); digits runs: a summary written before the checkpoint was recorded."""
    suite, attn, seed, status, fid, kid, ips = row
    final, final_last = {}, {}
    at = {"images_seen": IMAGES} if suite == "digits" else {"images_seen": BEST_IMAGES,
                                                            "checkpoint": "best.pt"}
    last = {"images_seen": IMAGES, "checkpoint": "last.pt"}
    if fid is not None:
        proto = P_DIGITS if suite == "digits" else P_FINAL
        final["fid"] = {"value": fid, "std": None, "protocol": proto, **at}
        if suite == "bench":
            final_last["fid"] = {"value": fid + LAST_FID_OFFSET, "std": None, "protocol": proto,
                                 **last}
    if kid is not None:
        final["kid"] = {"value": kid, "std": 0.0001, "protocol": P_KID, **at}
    best = {"fid": {"value": 15.0, "std": None, "protocol": P_TRAIN, "images_seen": 768_000}}
    return {"status": status, "run_id": run_id, "suite": suite,
            "config_hash": cfg.config_hash(), "step": 8000, "images_seen": IMAGES,
            "wall_time_s": WALL_S, "params": {"G": PARAMS_G[attn], "D": 6_775_940},
            "macs": {"G": MACS_G[attn], "D": 708_919_296},
            "train_macs_total": 3 * (MACS_G[attn] + 708_919_296) * IMAGES,
            "img_per_s": ips, "peak_memory_bytes": 2 * 2**30, "final": final,
            "final_last": final_last,
            "best": best if status != "diverged" else {},
            "spikes": 1 if status == "diverged" else 0,
            "diverged_at": {"step": 4000, "images_seen": DIVERGED_AT}
            if status == "diverged" else None,
            "error": None, "provenance_sha256": "0" * 64,
            **({"world_size": DOT_WORLD_SIZE} if attn == "dot_product" else {})}


def attention_npz(path: Path, seen: int) -> None:
    """Maps ``(B=2, h=2, N)`` of three stages as the trainer saves them: head 1 uniform, head 2
    peaked on one token that moves with ``seen``."""
    arrays = {"images": np.full((2, 32, 32, 3), seen // 4096 % 256, dtype=np.uint8)}
    for i, n in enumerate((64, 256, 1024)):
        maps = np.full((2, 2, n), 1.0 / n, dtype=np.float32)
        maps[:, 1] = 0.5 / (n - 1)
        maps[:, 1, seen // 256_000 % n] = 0.5
        arrays[f"stage{i}"] = maps
    np.savez_compressed(path, **arrays)


def _images(run_dir: Path, seed: int) -> None:
    samples = run_dir / "samples"
    samples.mkdir()
    for seen in (256_000, 512_000, 1_024_000):
        colour = (40 * seed % 256, seen // 4096 % 256, 120)
        Image.new("RGB", (64, 64), colour).save(samples / f"grid_{seen:012d}.png")
        Image.new("RGB", (32, 32), colour[::-1]).save(samples / f"attn_{seen:012d}.png")
        attention_npz(samples / f"attn_{seen:012d}.npz", seen)
    Image.new("RGB", (64, 64), (250, 250, 250)).save(samples / "real.png")


#: the locks of the fixture's running runs, held for the test process's life (a run is
#: "running" only while a live process holds its run directory's lock)
HELD_LOCKS: list[RunLock] = []


def write_run(root: Path, row: tuple) -> Path:
    suite, attn, seed, status, *_ = row
    name = SCRIPT_NAME if status == "running" else f"{attn}-seed{seed}"
    cfg = _config(suite, attn, seed, name)
    run_id = f"{name}-{cfg.config_hash()}"
    run_dir = root / suite / f"{attn}-seed{seed}-{cfg.config_hash()}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(json.dumps(cfg.to_dict()))  # JSON is valid YAML
    prov = {"git": {"commit": "c0ffee1", "dirty": False},
            "packages": {"torch": "2.14.1", "torch-fidelity": "0.4.0"}, "python": "3.11.2",
            "hostname": "node1", "device": "cpu", "device_name": "CPU Test (2 threads)",
            "cuda": None, "slurm": {}, "seed": seed, "config_hash": cfg.config_hash()}
    (run_dir / "provenance.json").write_text(json.dumps(prov))
    lines = _lines(attn, seed, "diverged" if status == "diverged" else "ok",
                   P_DIGITS if suite == "digits" else P_TRAIN)
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    summary = json.dumps(_summary(cfg, run_id, row if status != "corrupt" else
                                  (*row[:3], "finished", *row[4:])))
    # the corrupt run: summary.json cut in the middle (a crash outside the atomic writer)
    (run_dir / "summary.json").write_text(summary[: len(summary) // 2]
                                          if status == "corrupt" else summary)
    if suite == "bench" and attn == "lada":
        _images(run_dir, seed)
    if status == "running":
        HELD_LOCKS.append(RunLock(RunDir(run_dir)).__enter__())
    return run_dir


def write_scaling(root: Path) -> Path:
    """time_ms = 1e-6·N² for dot_product and 1e-3·N for lada (crossover at N = 1024)."""
    rows = ["variant,scope,tokens,time_ms,peak_memory_bytes,macs"]
    for n in [2 ** k for k in range(6, 15)]:
        rows.append(f"dot_product,layer,{n},{1e-6 * n * n},{4.0 * n * n},{64.0 * n * n}")
        rows.append(f"lada,layer,{n},{1e-3 * n},{4096.0 * n},{128.0 * n}")
    path = root / "scaling" / "scaling.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(rows) + "\n")
    return path


def make_results(root: Path) -> Path:
    """Write the whole fixture under ``root`` (suites ``bench`` and ``digits``, scaling CSV)."""
    for row in RUNS:
        write_run(root, row)
    write_scaling(root)
    return root
