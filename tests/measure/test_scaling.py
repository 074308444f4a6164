"""The scaling sweep's outputs on tiny shapes (structure, closed-form MACs, skips) and its
summary maths on synthetic curves. Timings themselves are a benchmark, never asserted."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from ladabench.measure.scaling import COLUMNS, run_scaling


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaling")
    df = run_scaling(out, variants=["lada", "dot_product"], tokens=(64, 256, 1024), dim=16, heads=2,
                     repeats=1, warmup=1, time_budget_s=1e-9, log=lambda s: None)
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
