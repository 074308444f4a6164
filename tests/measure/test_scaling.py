"""The scaling sweep's outputs on tiny shapes (structure, closed-form MACs, skips) and its
summary maths on synthetic curves. Timings themselves are a benchmark, never asserted."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest

from ladabench.measure.scaling import COLUMNS, run_scaling


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaling")
    df = run_scaling(out, variants=["lada", "dot_product"], tokens=(64, 256, 1024), dim=16, heads=2,
                     device="cpu", repeats=1, warmup=1, time_budget_s=1e-9, log=lambda s: None)
    return out, df


def test_csv_and_json_structure(sweep):
    out, df = sweep
    csv = pd.read_csv(out / "scaling.csv", keep_default_na=False)
    assert list(csv.columns) == COLUMNS
    assert len(csv) == 2 * 2 * 3  # variants × scopes × N, skipped points included
    doc = json.loads((out / "scaling.json").read_text())
    assert set(doc) == {"settings", "summary", "rows"} and len(doc["rows"]) == 12
    assert doc["settings"]["threads"] == 1 and doc["settings"]["dim"] == 16
    assert set(doc["summary"]) == {"layer", "block"}
    assert doc["summary"]["layer"]["lada"]["skipped"] == [1024]


def test_closed_form_macs(sweep):
    _, df = sweep
    ok = df.set_index(["variant", "scope", "tokens"])["macs"]
    n, c, h = 256, 16, 2
    assert ok["lada", "layer", n] == n * c * (4 * c + h + 1)
    assert ok["dot_product", "layer", n] == 4 * n * c * c + 2 * n * n * c
    assert ok["lada", "block", n] == n * c * (4 * c + h + 1) + 8 * n * c * c


def test_points_over_budget_are_recorded_as_skipped(sweep):
    _, df = sweep
    done = df[df["tokens"] < 1024]
    assert (done["status"] == "ok").all() and (done["time_ms"] > 0).all()
    assert (done["peak_memory_bytes"] >= 0).all() and (done["memory_method"] == "VmHWM rise").all()
    skipped = df[df["tokens"] == 1024]
    assert (skipped["status"] == "skipped").all() and skipped["time_ms"].isna().all()
    assert skipped["reason"].str.match(r"predicted \d+ s > time budget 0 s").all()


def test_standalone_cli(tmp_path, capsys):
    from ladabench.measure.scaling import main

    argv = ["--out", str(tmp_path), "--variants", "lada", "--tokens", "64", "256", "--dim", "16",
            "--heads", "2", "--repeats", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "layer         lada: exponent   n/a  crossover -" in out  # no baseline in this sweep
    assert f"wrote {tmp_path / 'scaling.csv'} and scaling.json" in out
    assert len(pd.read_csv(tmp_path / "scaling.csv")) == 4


@pytest.fixture
def fake_gpu(monkeypatch):
    """torch.cuda as a scaling sweep on a GPU sees it, without a GPU (names and memory only)."""
    import torch

    emptied = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: "Fake GPU")
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda device=None: SimpleNamespace(total_memory=10 * 2**30))
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    return emptied


def test_out_of_memory_on_a_gpu_is_a_skipped_point_and_the_sweep_goes_on(fake_gpu, monkeypatch):
    import torch

    import ladabench.measure.scaling as scaling

    def measure(spec: dict) -> dict:
        if spec["variant"] == "dot_product" and spec["tokens"] >= 256:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 4.00 GiB\nmore")
        return {"macs": 1, "time_ms": 1.0, "time_median_ms": 1.0, "peak_memory_bytes": 1,
                "status": "ok", "reason": ""}

    monkeypatch.setattr(scaling, "measure", measure)
    df = run_scaling(variants=["lada", "dot_product"], tokens=(64, 256, 1024), scopes=("layer",),
                     device="cuda", log=lambda s: None).set_index(["variant", "tokens"])
    assert (df.loc["lada", "status"] == "ok").all() and df.loc[("dot_product", 64), "status"] == "ok"
    assert df.loc[("dot_product", 256), "status"] == "skipped"
    assert df.loc[("dot_product", 256), "reason"] == ("out of memory: CUDA out of memory. "
                                                      "Tried to allocate 4.00 GiB")
    assert df.loc[("dot_product", 1024), "reason"] == "a smaller N (256) was skipped"
    assert fake_gpu == [True]
    assert (df["device"] == "Fake GPU").all()


def test_sizes_and_memory_budget_default_per_device(fake_gpu, monkeypatch):
    import ladabench.measure.scaling as scaling

    seen = []
    monkeypatch.setattr(scaling, "_run_curve", lambda base, tokens, memory, secs, log: seen.append(
        (base["device"], base["dim"], base["batch"], memory)) or [])
    for device in ("cpu", "cuda"):
        run_scaling(variants=["lada"], scopes=("layer",), device=device, log=lambda s: None)
    run_scaling(variants=["lada"], scopes=("layer",), device="cuda", dim=32, batch=2,
                memory_budget_bytes=5, log=lambda s: None)
    assert seen == [("cpu", 64, 1, 3 * 2**30), ("cuda", 256, 32, int(0.8 * 10 * 2**30)),
                    ("cuda", 32, 2, 5)]


def test_cuda_pass_times_come_from_events_with_one_synchronisation(monkeypatch):
    """Each timed pass is bracketed by CUDA events; the host waits once, after all of them."""
    import torch

    import ladabench.measure.scaling as scaling

    log = []

    class Event:
        def __init__(self, enable_timing: bool) -> None:
            assert enable_timing
            self.at = None

        def record(self) -> None:
            self.at = len(log)
            log.append("record")

        def elapsed_time(self, end: "Event") -> float:
            return 1000.0 * (end.at - self.at)  # ms: one pass between a start and its end

    monkeypatch.setattr(torch.cuda, "Event", Event)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: log.append("sync"))
    times = scaling._cuda_pass_times(lambda: log.append("pass"), warmup=2, repeats=3)
    assert times == [2.0, 2.0, 2.0]
    assert log == ["pass"] * 2 + ["record", "pass", "record"] * 3 + ["sync"]
