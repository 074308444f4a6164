"""benchmarks/device_check_report.py: one JSON and one Markdown table from the check's files,
exit 1 when a step failed or timed out (device_check.sh itself runs in .ci/run)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report():
    path = ROOT / "benchmarks" / "device_check_report.py"
    spec = importlib.util.spec_from_file_location("ladabench_device_check_report", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench_result(preset: str, img_per_s: float) -> dict:
    return {"preset": preset, "batch": 2, "train_img_per_s": img_per_s, "g_forward_img_per_s": 9.0,
            "achieved_gflop_per_s": 12.0, "peak_share": 0.5, "peak_memory_bytes": 3 * 2**20,
            "device_name": "CPU test", "torch": "2.x"}


def _write_steps(out: Path, resume_status: str) -> None:
    """What the resume, suite and sweep steps leave behind."""
    (out / "resume").mkdir()
    (out / "resume.status").write_text(resume_status + "\n")
    (out / "resume" / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in (
        {"kind": "train", "step": 1}, {"kind": "event", "event": "resume", "step": 2},
        {"kind": "train", "step": 6})) + "\n")
    (out / "resume" / "summary.json").write_text(json.dumps({"status": "finished", "images_seen": 12}))
    for name in ("s-lada", "s-swin"):
        run = out / "suite" / "device_check_suite" / name
        run.mkdir(parents=True)
        (run / "summary.json").write_text(json.dumps({"status": "finished"}))
        (run / "provenance.json").write_text(json.dumps({"device": "cuda"}))
    (out / "suite.status").write_text("ok\n")
    (out / "sweep" / "scaling").mkdir(parents=True)
    (out / "sweep" / "scaling" / "scaling.json").write_text(json.dumps({
        "settings": {"device_name": "Fake GPU"},
        "rows": [{"status": "ok"}, {"status": "ok"}, {"status": "skipped"}]}))
    (out / "sweep.status").write_text("ok\n")
    (out / "ddp.status").write_text("ok\n")
    (out / "ddp.json").write_text(json.dumps({
        "backend": "gloo", "batch": 2, "plain_img_per_s": 1.5, "distributed_img_per_s": 1.47,
        "ratio": 0.98}))


def _write_check(out: Path, failed: str | None = None) -> None:
    (out / "bench").mkdir(parents=True)
    for preset in ("cifar10_32", "ffhq_128"):
        for mode in ("fp32", "tf32", "bf16", "compile"):
            name = f"{preset}-{mode}"
            status = "skipped: TF32 is a CUDA option" if mode == "tf32" else "ok"
            if name == failed:
                status = "failed: exit 1 (see bench/x.err)"
            (out / "bench" / f"{name}.status").write_text(status + "\n")
            if status == "ok":
                (out / "bench" / f"{name}.json").write_text(json.dumps(_bench_result(preset, 1.5)))
    _write_steps(out, "failed: first session exit 0, expected 143 (see resume.log)"
                 if failed == "resume" else "ok")
    (out / "train").mkdir()
    (out / "train.status").write_text("ok\n")
    (out / "train" / "summary.json").write_text(json.dumps(
        {"status": "finished", "step": 4, "images_seen": 8, "wall_time_s": 30.0, "img_per_s": 0.5}))
    (out / "train" / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in (
        {"kind": "train", "step": 2},
        {"kind": "eval", "step": 2, "results": {"fid": {"value": 400.25}}},
        {"kind": "eval", "step": 4, "results": {"fid": {"value": 350.5}}},
    )) + "\n")


def test_a_complete_check_writes_json_and_table(report, tmp_path, capsys):
    _write_check(tmp_path)
    assert report.main([str(tmp_path), "--device", "cpu", "--seconds", "99"]) == 0
    data = json.loads((tmp_path / "device_check.json").read_text())
    assert data["ok"] and data["device_name"] == "CPU test" and len(data["bench"]) == 8
    assert [e["step"] for e in data["training"]["in_loop_evaluations"]] == [2, 4]
    table = (tmp_path / "device_check.md").read_text()
    assert "| cifar10_32 | fp32 | 2 | 1.5 | 9 | 12 | 50% | 3 | ok |" in table
    assert "| ffhq_128 | tf32 | – |" in table and "skipped: TF32 is a CUDA option" in table
    assert "in-loop digits-cnn FID (standard: false): 400.2, 350.5" in table
    assert ("Resume (SIGTERM after the first step, then continued): ok; 1 resume(s) logged, "
            "run finished at 12 images.") in table
    assert ("Suite through the local executor: ok; s-lada finished on cuda, s-swin finished on "
            "cuda.") in table
    assert "Scaling sweep on Fake GPU: ok; 2 points measured, 1 skipped, 0 failed." in table
    assert ("Distributed run of world size 1 (gloo, cifar10_32, batch 2): ok; 1.47 img/s against "
            "1.5 plain, ratio 0.980.") in table
    assert data["resume"]["resumes"] == 1 and data["sweep"]["points"]["skipped"] == 1
    assert table in capsys.readouterr().out


def test_a_failed_step_makes_the_check_fail(report, tmp_path):
    _write_check(tmp_path, failed="ffhq_128-compile")
    assert report.main([str(tmp_path), "--device", "cpu", "--seconds", "99"]) == 1
    assert not json.loads((tmp_path / "device_check.json").read_text())["ok"]


def test_a_resume_that_was_not_stopped_makes_the_check_fail(report, tmp_path):
    _write_check(tmp_path, failed="resume")
    assert report.main([str(tmp_path), "--device", "cuda", "--seconds", "99"]) == 1
    assert json.loads((tmp_path / "device_check.json").read_text())["resume"]["status"].startswith(
        "failed: first session exit 0")
