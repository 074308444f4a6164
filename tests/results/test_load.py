"""ladabench.results.load: run directories → pandas, robust to missing and corrupt files."""
import json
import subprocess
import sys

import pytest

from ladabench.config import MACHINE_KEYS
from ladabench.core.errors import DataError
from ladabench.core.protocol import protocol_id
from ladabench.results.load import (CORRUPT, NON_EXPERIMENT_KEYS, drop_superseded, find_run_dirs,
                                    load_results, load_run)
from report.fixture_results import DOT_WORLD_SIZE, P_FINAL, RUNS, SCRIPT_NAME, make_results


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = make_results(tmp_path_factory.mktemp("results"))
    return load_results([root])


def _run(results, suite, attn, seed):
    runs = results.runs
    sel = runs[(runs["suite"] == suite) & (runs["cfg.model.g_attention"] == attn)
               & (runs["seed"] == seed)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_one_row_per_run_with_status_from_summary(results):
    assert len(results.runs) == len(RUNS)
    for suite, attn, seed, status, fid, *_ in RUNS:
        row = _run(results, suite, attn, seed)
        assert row["status"] == status
        if fid is not None:
            assert row["final/fid"] == fid


def test_corrupt_summary_is_listed_with_its_problem(results):
    row = _run(results, "bench", "linformer", 1)
    assert row["status"] == CORRUPT
    assert row["problem"].startswith("summary.json: invalid JSON")
    assert row["suite"] == "bench" and row["run_id"].startswith("linformer-seed1-")


def test_summary_numbers_params_macs_and_config_columns(results):
    row = _run(results, "bench", "lada", 0)
    assert (row["params_G"], row["macs_G"]) == (19_901_647, 758_349_824)
    assert row["img_per_s"] == 410.0 and row["wall_time_s"] == 7200.0
    assert row["cfg.data.name"] == "cifar10" and row["cfg.train.seed"] == 0
    assert row["prov.git.commit"] == "c0ffee1" and row["prov.device"] == "cpu"
    assert row["final/fid/protocol"] == protocol_id(P_FINAL)
    assert (row["selected_checkpoint"], row["selected_images_seen"]) == ("best.pt", 768_000)
    assert (row["final_last/fid"], row["final_last/fid/images_seen"]) == (3.5, 1_024_000)
    old = _run(results, "digits", "lada", 0)  # final values without a recorded checkpoint
    assert (old["selected_checkpoint"], old["selected_images_seen"]) == ("last.pt", 1_024_000)
    m = results.metrics
    lada0 = m[m["run_id"] == row["run_id"]].set_index(["which", "metric"])
    assert lada0.loc[("final", "fid"), "checkpoint"] == "best.pt"
    assert lada0.loc[("final_last", "fid"), "checkpoint"] == "last.pt"


def test_world_size_is_read_and_older_summaries_count_one_process(results):
    assert _run(results, "bench", "dot_product", 1)["world_size"] == DOT_WORLD_SIZE
    assert _run(results, "bench", "lada", 0)["world_size"] == 1  # summary without the key


def test_runs_differing_only_in_seed_and_name_share_a_group(results):
    lada = [_run(results, "bench", "lada", s) for s in range(4)]
    assert len({r["group"] for r in lada}) == 1
    assert lada[3]["name"] == SCRIPT_NAME
    assert _run(results, "bench", "dot_product", 0)["group"] != lada[0]["group"]
    assert lada[0]["variant"] == "g_attention=lada, d_attention=lada"
    # a suite with one group: the run name without its seed token
    assert _run(results, "digits", "lada", 1)["variant"] == "lada"


def test_curves_events_and_evals(results):
    rid = _run(results, "bench", "linformer", 0)["run_id"]
    train = results.train[results.train["run_id"] == rid]
    assert list(train["grad_norm/D"]) == [2.1, 900.0, 900.0, 900.0]
    events = results.events[results.events["run_id"] == rid]
    assert list(events["event"]) == ["spike", "diverged"]
    assert json.loads(events.iloc[0]["details"]) == {"name": "grad_norm/D", "value": 900.0,
                                                     "median": 2.2}
    assert _run(results, "bench", "linformer", 0)["n_spikes"] == 1
    lada0 = _run(results, "bench", "lada", 0)["run_id"]
    evals = results.evals[results.evals["run_id"] == lada0]
    assert list(evals["images_seen"]) == [512_000, 1_024_000]
    assert list(evals["value"]) == [34.0 / 2, 34.0 / 4]


def test_machine_keys_are_not_experiment_keys():
    assert {".".join(k) for k in MACHINE_KEYS} <= NON_EXPERIMENT_KEYS


def test_missing_and_bad_files(tmp_path):
    pending = tmp_path / "pending"
    pending.mkdir()
    (pending / "config.yaml").write_text("name: p\n")
    assert (load_run(pending).status, load_run(pending).problems) == ("pending", [])

    started = tmp_path / "started"
    started.mkdir()
    (started / "metrics.jsonl").write_text('{"kind": "train", "step": 1}\n{"kind": "tr')
    run = load_run(started)
    assert run.status == CORRUPT and len(run.records) == 1  # torn last line ignored
    assert run.problems == ["config.yaml: missing", "summary.json: missing",
                            "provenance.json: missing"]

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text(json.dumps({"status": "done", "final": {}}))
    (bad / "metrics.jsonl").write_text('{"kind": "train"}\nnot json\n{"kind": "train"}\n')
    run = load_run(bad)
    assert run.status == CORRUPT
    assert ("summary.json: status: expected one of pending, running, interrupted, finished, "
            "diverged, failed, got 'done'") in run.problems
    assert any(p.startswith("metrics.jsonl: invalid JSON line before the last") for p in
               run.problems)


def test_find_run_dirs(tmp_path, results):
    with pytest.raises(DataError, match="results folder not found"):
        find_run_dirs(tmp_path / "nope")
    root = results.roots[0]
    assert len(find_run_dirs(root)) == len(RUNS)  # the scaling folder holds no run
    assert find_run_dirs(root / "digits" / next((root / "digits").iterdir()).name)


def test_reading_results_and_rendering_do_not_import_torch():
    code = ("import sys, ladabench.results, ladabench.report.render; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_records_replayed_after_a_resume_are_dropped():

    recs = [{"kind": "train", "step": s} for s in (10, 20, 30)]
    recs += [{"kind": "event", "event": "checkpoint", "step": 20}]
    recs += [{"kind": "event", "event": "resume", "step": 20}]
    recs += [{"kind": "train", "step": 30}, {"kind": "train", "step": 40}]
    kept = drop_superseded(recs)
    assert [(r["kind"], r["step"]) for r in kept] == [
        ("train", 10), ("train", 20), ("event", 20), ("event", 20), ("train", 30), ("train", 40)]
