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
    assert r["train_img_per_s"] == 2 / r["s_per_step"] and r["g_forward_img_per_s"] > 0
    assert r["device_name"].startswith("CPU ")
    assert r["achieved_gflop_per_s"] > 0 and 0 < r["peak_share"] and r["peak_memory_bytes"] > 0


def test_bench_errors(capsys):
    assert main(["bench", "--preset", "cifar10_23", "--device", "cpu"]) == 2
    assert "unknown preset 'cifar10_23' (did you mean 'cifar10_32'?)" in capsys.readouterr().err
    assert main(["bench", "--preset", "tiny_32", "--tf32", "--device", "cpu"]) == 2
    assert "train.tf32: TensorFloat-32 is a CUDA option; device is cpu" in capsys.readouterr().err


def test_scaling_flag_dispatches_to_the_scaling_sweep(monkeypatch):
    import ladabench.metrics.scaling as scaling

    seen = []
    monkeypatch.setattr(scaling, "bench_scaling", lambda args: seen.append(vars(args)) or 0)
    assert main(["bench", "--scaling", "--device", "cpu"]) == 0
    assert seen == [{"device": "cpu"}]


def test_bad_device_names_the_flag(capsys):
    assert main(["bench", "--preset", "tiny_32", "--device", "gpu0"]) == 2
    assert "--device: 'gpu0' is not a torch device" in capsys.readouterr().err


def test_bench_prints_speed_share_of_peak_and_memory(capsys, one_torch_thread):
    code = main(["bench", "--preset", "tiny_32", "--batch", "2", "--steps", "1", "--warmup", "1",
                 "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    assert "GFLOP/s" in out and "of the best matmul timed now (float32" in out
    assert "peak memory:" in out and "(cpu peak rss growth)" in out
