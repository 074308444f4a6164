"""The regression gate on fixture run directories written per architecture.md contracts 1-4."""
import json
from pathlib import Path

import pytest
import yaml

from ladabench.measure.reference import REFERENCE_NAME
from ladabench.results import gate
from ladabench.results.baseline import Reference, load_baseline
from ladabench.cli import main
from ladabench.core.errors import ConfigError, DataError

PROTOCOL = {"metric": "fid", "extractor": "digits-cnn", "weights_sha256": "ab12", "n_gen": 500,
            "n_real": 500, "real_split": "train", "dataset": "digits", "resolution": 16,
            "standard": False, "library": "ladabench 0.1.0"}
ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "suites" / "ci_regression.yaml"
BASELINE = ROOT / "baselines" / "regression" / "ci_regression.yaml"
#: the deliberate regression of the FID-gate test: a generator learning-rate bug in the code
INJECTED_BUG = Path(__file__).with_name("gate_bug_plugin.py")
SEED_FIDS = [20.0, 22.0, 24.0]  # mean 22, sample std 2 → default tolerance 3 × 2 = 6


def write_run(root, name, seed, fid, img_per_s=100.0, *, status="finished",
              device=("cpu", "CPU Xeon (1 threads)"), protocol=PROTOCOL, train=None):
    """A run dir as ``ladabench run`` writes it for a suite with a ``train.seed`` grid."""
    run = root / f"{name}-seed{seed}-hash{seed}"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({
        "name": f"{name}-seed{seed}", "suite": root.name,
        "train": {"seed": seed, "g_lr": 1e-3, **(train or {})}}))
    final = {"fid": {"value": fid, "std": None, "protocol": protocol, "images_seen": 1000}}
    summary = {"status": status, "run_id": run.name, "suite": root.name,
               "config_hash": f"hash{seed}", "step": 10, "images_seen": 1000, "wall_time_s": 9.0,
               "img_per_s": img_per_s, "final": final if status == "finished" else {}}
    (run / "summary.json").write_text(json.dumps(summary))
    (run / "provenance.json").write_text(json.dumps({
        "git": {"commit": "c0ffee", "dirty": False}, "packages": {"torch": "2.14.1"},
        "device": device[0], "device_name": device[1], "seed": seed}))
    return run


def ref(per_s: float) -> Reference:
    return Reference(name=REFERENCE_NAME, per_s=per_s)


def write_suite(root, fids=SEED_FIDS, **kw):
    for seed, fid in enumerate(fids):
        write_run(root, "lada", seed, fid, **kw)
    return root


@pytest.fixture
def baseline(tmp_path):
    path = tmp_path / "base.yaml"
    gate.update_baseline(write_suite(tmp_path / "ref"), path, reference=lambda d: ref(50.0))
    return path


def run_check(tmp_path, baseline, reference=50.0, **kw):
    return gate.check_results(write_suite(tmp_path / "now", **kw), baseline,
                               reference=lambda d: ref(reference))


def test_update_writes_mean_spread_tolerance_and_provenance(baseline):
    data = yaml.safe_load(baseline.read_text())
    ref = data["runs"]["lada"]
    assert ref["metrics"]["fid"]["value"] == 22.0
    assert ref["metrics"]["fid"]["std"] == 2.0
    assert ref["seeds"] == [0, 1, 2]
    assert data["tolerances"]["fid"]["abs"] == 6.0
    assert data["reference"]["per_s"] == 50.0
    assert data["device_class"] == "cpu"
    assert data["provenance"]["commits"] == ["c0ffee"]
    assert data["provenance"]["versions"] == {"torch": "2.14.1"}
    assert data["provenance"]["device"] == "CPU Xeon (1 threads)"


def test_unchanged_results_pass(tmp_path, baseline):
    rows, code = run_check(tmp_path, baseline)
    assert code == 0
    fid = next(r for r in rows if r.quantity == "fid")
    assert (fid.baseline, fid.current, fid.limit) == (22.0, 22.0, "<= 28")


def test_fid_increase_beyond_tolerance_is_a_regression(tmp_path, baseline):
    rows, code = run_check(tmp_path, baseline, fids=[27.0, 29.0, 31.0])  # mean 29 > 28
    assert code == 1
    assert [r.quantity for r in rows if r.verdict == gate.REGRESSION] == ["fid"]


def test_fid_increase_within_tolerance_passes(tmp_path, baseline):
    assert run_check(tmp_path, baseline, fids=[26.0, 28.0, 30.0])[1] == 0  # mean 28 = limit


def test_busier_machine_with_slower_reference_passes(tmp_path, baseline):
    # half the img/s, but the reference timed in the same job is also half as fast
    assert run_check(tmp_path, baseline, reference=25.0, img_per_s=50.0)[1] == 0


def test_slower_training_at_same_reference_is_a_regression(tmp_path, baseline):
    rows, code = run_check(tmp_path, baseline, img_per_s=40.0)  # ratio 0.4 < default 0.5
    assert code == 1
    row = next(r for r in rows if r.quantity == "img_per_s")
    assert row.verdict == gate.REGRESSION and "normalised ratio 0.40" in row.note


def test_missing_run_cannot_compare(tmp_path, baseline):
    write_run(tmp_path / "now", "other", 0, 22.0)
    rows, code = gate.check_results(tmp_path / "now", baseline, reference=lambda d: ref(50.0))
    assert code == 2
    assert (rows[0].run, rows[0].note) == ("lada", "no run in results")


def test_unfinished_run_cannot_compare(tmp_path, baseline):
    write_run(tmp_path / "now", "lada", 0, 22.0, status="interrupted")
    rows, code = gate.check_results(tmp_path / "now", baseline, reference=lambda d: ref(50.0))
    assert code == 2 and rows[0].note == "status interrupted in results"


def test_protocol_mismatch_cannot_compare_and_names_the_key_and_values(tmp_path, baseline):
    rows, code = run_check(tmp_path, baseline, protocol={**PROTOCOL, "n_gen": 1000})
    assert code == 2
    assert next(r for r in rows if r.quantity == "fid").note == (
        "protocol differs in n_gen (baseline 500, current 1000)")


def test_other_extractor_weights_cannot_compare(tmp_path, baseline):
    sha = "a66fd5ab8e1ab00271d5f7ab10cad948c6a1073e5d7dd2ab75c0132cd483a6db"
    rows, code = run_check(tmp_path, baseline, protocol={**PROTOCOL, "weights_sha256": sha})
    assert code == 2
    assert next(r for r in rows if r.quantity == "fid").note == (
        "protocol differs in weights_sha256 (baseline ab12, current a66fd5ab8e1a…)")


def test_changed_training_settings_cannot_compare(tmp_path, baseline):
    rows, code = run_check(tmp_path, baseline, train={"g_lr": 2e-3, "ema_decay": 0.99})
    assert code == 2
    assert [(r.quantity, r.note) for r in rows] == [(
        "config", "seed 0: config differs in train.ema_decay (baseline 0.999, current 0.99); "
                  "train.g_lr (baseline 0.001, current 0.002)")]


def test_a_setting_the_baseline_predates_compares_at_its_default(tmp_path, baseline):
    assert run_check(tmp_path, baseline, train={"time_budget_s": None})[1] == 0
    assert run_check(tmp_path / "b", baseline, train={"time_budget_s": 60})[1] == 2


def test_protocol_library_version_may_differ(tmp_path, baseline):
    assert run_check(tmp_path, baseline, protocol={**PROTOCOL, "library": "x 9"})[1] == 0


def test_device_class_mismatch_cannot_compare(tmp_path, baseline):
    rows, code = run_check(tmp_path, baseline, device=("cuda:0", "NVIDIA H100 80GB HBM3"))
    assert code == 2
    assert rows[0].note == "device class cuda:NVIDIA H100 80GB HBM3 != baseline cpu"


def test_cannot_compare_wins_over_regression(tmp_path, baseline):
    base = yaml.safe_load(baseline.read_text())
    base["runs"]["absent"] = base["runs"]["lada"]
    baseline.write_text(yaml.safe_dump(base))
    assert run_check(tmp_path, baseline, fids=[40.0, 40.0, 40.0])[1] == 2


def test_diverged_run_is_a_regression(tmp_path, baseline):
    write_suite(tmp_path / "now", fids=SEED_FIDS[:2])
    write_run(tmp_path / "now", "lada", 2, 0.0, status="diverged")
    rows, code = gate.check_results(tmp_path / "now", baseline, reference=lambda d: ref(50.0))
    assert code == 1 and rows[0].note == "seed 2 diverged"


def test_update_keeps_existing_tolerances(tmp_path, baseline):
    base = yaml.safe_load(baseline.read_text())
    base["tolerances"]["fid"] = {"rel": 0.5, "basis": "hand-set"}
    baseline.write_text(yaml.safe_dump(base))
    new = gate.update_baseline(write_suite(tmp_path / "now", fids=[30.0, 30.0, 30.0]), baseline,
                                reference=lambda d: ref(50.0))
    assert new.tolerances["fid"].rel == 0.5 and new.runs["lada"].metrics["fid"].value == 30.0


def test_update_needs_two_seeds_for_a_tolerance(tmp_path):
    write_run(tmp_path / "one", "lada", 0, 22.0)
    with pytest.raises(DataError, match="needs at least 2 seeds"):
        gate.update_baseline(tmp_path / "one", tmp_path / "b.yaml", reference=lambda d: ref(1.0))
    assert not (tmp_path / "b.yaml").exists()


def test_update_refuses_unfinished_runs(tmp_path):
    write_run(tmp_path / "r", "lada", 0, 22.0, status="failed")
    with pytest.raises(DataError, match="run 'lada' seed 0 is failed, not finished"):
        gate.update_baseline(tmp_path / "r", tmp_path / "b.yaml", reference=lambda d: ref(1.0))


def test_bad_baseline_names_file_and_key(tmp_path, baseline):
    base = yaml.safe_load(baseline.read_text())
    base["tolerances"]["fid"] = {"basis": "nothing set"}
    baseline.write_text(yaml.safe_dump(base))
    with pytest.raises(ConfigError, match=r"base\.yaml: tolerances\.fid: .*set abs and/or rel"):
        load_baseline(baseline)


@pytest.mark.parametrize("change, expected", [
    (lambda b: b.update(runs={}), r"runs: .*at least 1 item"),
    (lambda b: b["runs"]["lada"].update(metrics={}), r"runs\.lada\.metrics: .*at least 1 item"),
    (lambda b: b["tolerances"]["fid"].update(abs=float("inf")), r"tolerances\.fid\.abs: .*finite"),
])
def test_a_baseline_that_would_compare_nothing_is_refused(baseline, change, expected):
    base = yaml.safe_load(baseline.read_text())
    change(base)
    baseline.write_text(yaml.safe_dump(base))
    with pytest.raises(ConfigError, match=expected):
        load_baseline(baseline)


def test_results_without_protocol_or_throughput_cannot_be_compared(tmp_path, baseline):
    now = write_suite(tmp_path / "now")
    runs = sorted(p for p in now.rglob("summary.json"))
    first = json.loads(runs[0].read_text())
    first["img_per_s"] = None
    runs[0].write_text(json.dumps(first))
    second = json.loads(runs[1].read_text())
    del second["final"]["fid"]["protocol"]
    runs[1].write_text(json.dumps(second))
    rows, code = gate.check_results(now, baseline, reference=lambda d: ref(50.0))
    assert code == gate.CANNOT_COMPARE
    notes = " / ".join(r.note for r in rows)
    assert "summary.json: final.fid.protocol: expected the metric's protocol" in notes
    first["img_per_s"], second["final"]["fid"]["protocol"] = 100.0, PROTOCOL
    runs[1].write_text(json.dumps(second))
    rows, code = gate.check_results(now, baseline, reference=lambda d: ref(50.0))
    assert code == gate.CANNOT_COMPARE
    assert [r.note for r in rows if r.quantity == "img_per_s"] == [
        "img_per_s missing or not a finite positive number in a run's summary.json"]
    first["img_per_s"] = float("inf")  # json writes Infinity, json reads it back
    runs[0].write_text(json.dumps(first))
    rows, code = gate.check_results(now, baseline, reference=lambda d: ref(50.0))
    assert code == gate.CANNOT_COMPARE


def test_cli_exit_codes_and_table(tmp_path, baseline, monkeypatch, capsys):
    monkeypatch.setattr("ladabench.measure.reference.measure_reference", lambda device: 50.0)
    write_suite(tmp_path / "ok")
    assert main(["check", str(tmp_path / "ok"), "--baseline", str(baseline)]) == 0
    out = capsys.readouterr().out
    assert "lada  fid" in out and "check passed" in out
    write_suite(tmp_path / "bad", fids=[40.0, 40.0, 40.0])
    assert main(["check", str(tmp_path / "bad"), "--baseline", str(baseline)]) == 1
    assert "REGRESSION" in capsys.readouterr().out
    assert main(["check", str(tmp_path / "nothing"), "--baseline", str(baseline)]) == 2
    assert "results folder not found" in capsys.readouterr().err
    write_suite(tmp_path / "other", protocol={**PROTOCOL, "n_real": 100})
    assert main(["check", str(tmp_path / "other"), "--baseline", str(baseline)]) == 2
    out = capsys.readouterr().out
    assert "protocol differs in n_real (baseline 500, current 100)" in out
    assert out.rstrip().endswith(f"ladabench check {tmp_path / 'other'} --baseline {baseline} --update")


def _gate(tmp_path, *plugins):
    """Train seed 0 of the CI suite (suites/ci_regression.yaml, with extra ``plugins``), then
    run the FID gate against the committed baseline; returns (exit code, printed table)."""
    import contextlib
    import io

    from ladabench.train import loop

    spec = yaml.safe_load(SUITE.read_text())
    spec["plugins"] = [str(SUITE.parent / p) for p in spec.get("plugins", [])] + [str(p) for p in plugins]
    suite = tmp_path / SUITE.name
    suite.write_text(yaml.safe_dump(spec))
    root = tmp_path / "results"
    args = ["run", str(suite), "--executor", "local", "--only", "seed0", "--results", str(root)]
    allowed = [a for p in spec["plugins"] for a in ("--allow-plugin", p)]  # outside tmp_path
    build_setup = loop.build_setup
    try:  # the launching process imports the plugins too: undo the injected bug afterwards
        assert main(args + allowed) == 0
    finally:
        loop.build_setup = build_setup
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["check", str(root / "ci_regression"), "--baseline", str(BASELINE)])
    return code, out.getvalue()


@pytest.mark.slow
def test_fid_gate_passes_unmodified_code(tmp_path):
    code, table = _gate(tmp_path)
    assert code == 0, table


@pytest.mark.slow
def test_fid_gate_fails_an_injected_learning_rate_bug(tmp_path):
    code, table = _gate(tmp_path, INJECTED_BUG)
    assert code == 1, table
    assert "REGRESSION" in next(line for line in table.splitlines() if " fid " in line)


def test_different_reference_workload_cannot_compare(tmp_path, baseline):
    base = yaml.safe_load(baseline.read_text())
    base["reference"]["name"] = "matmul-fp32-512"
    baseline.write_text(yaml.safe_dump(base))
    rows, code = run_check(tmp_path, baseline)
    assert code == 2 and rows[0].note.startswith("baseline reference matmul-fp32-512 != ")
