"""``ladabench bench``: JSON output with the device, the achieved GFLOP/s and peak memory, errors
for impossible options, and the human-readable form."""
from __future__ import annotations

import json


from ladabench.cli import main
from train.tiny import register_tiny

register_tiny()


def test_bench_json_reports_img_per_s_with_the_device(capsys, one_torch_thread):
    code = main(["bench", "--preset", "tiny_32", "--batch", "2", "--steps", "1", "--warmup", "1",
                 "--device", "cpu", "--json"])
    assert code == 0
    r = json.loads(capsys.readouterr().out)
    assert r["batch"] == 2 and r["preset"] == "tiny_32" and r["diffaug"] == "color,translation"
    assert r["r1_interval"] == 1 and r["amp"] == "off"
    assert r["g_forward_img_per_s"] > 0 and r["tf32"] is False
    assert r["device_name"].startswith("CPU ")
    assert r["achieved_gflop_per_s"] > 0 and 0 < r["peak_share"] and r["peak_memory_bytes"] > 0


def test_bench_errors(capsys):
    assert main(["bench", "--preset", "cifar10_23", "--device", "cpu"]) == 2
    assert "unknown preset 'cifar10_23' (did you mean 'cifar10_32'?)" in capsys.readouterr().err
    assert main(["bench", "--preset", "tiny_32", "--tf32", "--device", "cpu"]) == 2
    assert "train.tf32: TensorFloat-32 is a CUDA option; device is cpu" in capsys.readouterr().err


def test_scaling_flag_dispatches_to_the_scaling_sweep(monkeypatch):
    import ladabench.measure.scaling as scaling

    seen = []
    monkeypatch.setattr(scaling, "bench_scaling", lambda args: seen.append(vars(args)) or 0)
    assert main(["bench", "--scaling", "--device", "cpu"]) == 0
    assert seen == [{"device": "cpu"}]


def test_bad_device_names_the_flag(capsys):
    assert main(["bench", "--preset", "tiny_32", "--device", "gpu0"]) == 2
    assert "--device: 'gpu0' is not a torch device" in capsys.readouterr().err


def test_data_flag_runs_the_data_pipeline_benchmark(monkeypatch, capsys):
    import ladabench.measure.data_pipeline as data_pipeline

    seen = []

    def fake(**kwargs):
        seen.append(kwargs)
        return {"images": 10, "png_size": 32, "png_mean_bytes": 2000, "resolution": 16, "batch": 4,
                "device": "cpu", "cpu": "x86_64", "cores": 2, "threads": 1, "repeats": 1,
                "load_avg_before": 1.0, "load_avg_after": 1.5, "torch": "t", "pillow": "p",
                "build": {"img_per_s": 250.0, "seconds": 0.04, "processes": 2,
                          "cpu_ms_per_img": 4.0, "img_per_s_idle_estimate": 500.0},
                "loader_cached": {"0": {"img_per_s": 9000.0, "main_cpu_ms_per_img": 0.1}},
                "loader_old": {"img_per_s": 90.0, "main_cpu_ms_per_img": 11.0},
                "speedup_loader": 100.0, "speedup_build": 2.8}

    monkeypatch.setattr(data_pipeline, "bench_data", fake)
    assert main(["bench", "--data", "--data-images", "10", "--data-workers", "0", "2",
                 "--device", "cpu"]) == 0
    assert seen[0]["images"] == 10 and seen[0]["workers"] == (0, 2) and seen[0]["resolution"] == 64
    out = capsys.readouterr().out
    assert "cache build (2 processes): 250 img/s (0.0 s; 4.00 ms CPU per image, so about 500 " \
           "img/s on 2 idle cores)" in out
    assert "loader from the cache, 0 workers: 9000 img/s" in out and "x100" in out
    assert main(["bench", "--data", "--data-workers", "-1", "--device", "cpu"]) == 2
    assert "--data-workers: expected counts >= 0, got [-1]" in capsys.readouterr().err


def test_bench_prints_speed_share_of_peak_and_memory(capsys, one_torch_thread):
    code = main(["bench", "--preset", "tiny_32", "--batch", "2", "--steps", "1", "--warmup", "1",
                 "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    assert "GFLOP/s" in out and "of the best matmul timed now (float32" in out
    assert "peak memory:" in out and "(cpu peak rss growth)" in out


def test_sizes_default_per_device_and_flags_win(monkeypatch, capsys):
    """A GPU gets a larger batch and more steps (batch 32 × 5 steps time kernel launches on it);
    the CPU defaults stay as they were."""
    import torch

    import ladabench.device as device
    import ladabench.train.throughput as throughput

    seen = []
    monkeypatch.setattr(throughput, "measure_throughput", lambda cfg, dev, steps, warmup: seen.append(
        (dev.type, cfg.train.batch_size, steps, warmup)) or {})
    for kind in ("cpu", "cuda"):
        monkeypatch.setattr(device, "resolve_device", lambda name, key, kind=kind: torch.device(kind))
        assert main(["bench", "--preset", "tiny_32", "--json"]) == 0
        assert main(["bench", "--preset", "tiny_32", "--batch", "8", "--steps", "3", "--json"]) == 0
    assert seen == [("cpu", 32, 5, 2), ("cpu", 8, 3, 2), ("cuda", 128, 30, 5), ("cuda", 8, 3, 5)]
