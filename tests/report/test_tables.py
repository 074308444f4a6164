"""ladabench.report.tables: seed groups, mean ± std, 95 % t-intervals, best marks, protocols."""
import json
import math
import statistics

import pytest

from ladabench.core.protocol import protocol_id
from ladabench.report.tables import (
    Stat, format_value, main_results_frame, metric_display, protocol_ids, suite_tables,
)
from ladabench.results import load_results
from report.fixture_results import P_DIGITS, P_FINAL, P_KID, make_results

T975 = {2: 4.302652729911275, 3: 3.182446305284263}  # Student t, 0.975 quantile, by df


def independent(values):
    mean, sd = statistics.fmean(values), statistics.stdev(values)
    half = T975[len(values) - 1] * sd / math.sqrt(len(values))
    return mean, sd, half


def test_stat_matches_an_independent_computation():
    vals = [3.1, 3.5, 3.3, 2.9]
    s = Stat.of(vals)
    mean, sd, half = independent(vals)
    assert (s.n, s.mean, s.std, s.ci) == (4, pytest.approx(mean), pytest.approx(sd),
                                           pytest.approx(half))
    two = Stat.of([4.0, 4.4])
    assert two.ci is None and two.std == pytest.approx(statistics.stdev([4.0, 4.4]))
    assert Stat.of([None, float("nan")]) is None


@pytest.fixture(scope="module")
def bench(fixture_results):
    pids = protocol_ids(fixture_results)
    tables = {t.suite: t for t in suite_tables(fixture_results, pids)}
    return tables, pids


def _row(table, label):
    return next(r for r in table.rows if r["variant"] == label)


def test_results_table_numbers_equal_the_fixture(bench):
    tables, pids = bench
    t = tables["bench"]
    fid_key = f"final/fid@{protocol_id(P_FINAL)}"
    kid_key = f"final/kid@{protocol_id(P_KID)}"
    lada = _row(t, "g_attention=lada, d_attention=lada")
    mean, sd, half = independent([3.1, 3.5, 3.3])  # finished seeds only; seed 3 is running
    cell = lada["cells"][fid_key]
    assert cell.text == f"{mean:.2f} ± {sd:.2f}" == "3.30 ± 0.20"
    assert cell.title == f"n = 3; 95 % CI [{mean - half:.2f}, {mean + half:.2f}]"
    kmean, ksd, _ = independent([2.1, 2.5, 2.3])  # KID ×10³
    assert lada["cells"][kid_key].text == f"{kmean:.2f} ± {ksd:.2f}"
    assert lada["runs"] == "4 runs: 3 finished, 1 running"
    assert lada["cells"]["params_G"].text == "19.90"  # fixed by the config: no ± shown
    dot = _row(t, "g_attention=dot_product, d_attention=dot_product")
    assert dot["cells"][fid_key].text == f"4.20 ± {statistics.stdev([4.0, 4.4]):.2f}"
    assert dot["cells"][fid_key].stat.ci is None
    assert dot["cells"]["img_per_s"].text == f"255.0 ± {statistics.stdev([250, 260]):.1f}"
    # processes: recorded by data-parallel runs, 1 for summaries written before the key
    assert (dot["cells"]["world_size"].text, lada["cells"]["world_size"].text) == ("2", "1")
    lin = _row(t, "g_attention=linformer, d_attention=linformer")
    assert lin["runs"] == "2 runs: 1 diverged, 1 corrupt"
    assert lin["cells"][fid_key].text == "—"


def test_best_per_column(bench):
    t = bench[0]["bench"]
    lada = _row(t, "g_attention=lada, d_attention=lada")["cells"]
    dot = _row(t, "g_attention=dot_product, d_attention=dot_product")["cells"]
    fid_key = f"final/fid@{protocol_id(P_FINAL)}"
    assert lada[fid_key].best and not dot[fid_key].best  # lower FID
    assert lada["img_per_s"].best and not dot["img_per_s"].best  # higher throughput
    assert not lada["images_seen"].best  # a budget, never "best"
    assert not lada["world_size"].best and not dot["world_size"].best  # a setting, not a result


def test_protocols_never_share_a_column(bench, results_root, tmp_path):
    tables, pids = bench
    bench_cols = [c.key for c in tables["bench"].columns if c.key.startswith("final/fid@")]
    digit_cols = [c.key for c in tables["digits"].columns if c.key.startswith("final/fid@")]
    assert bench_cols == [f"final/fid@{protocol_id(P_FINAL)}"]
    assert digit_cols == [f"final/fid@{protocol_id(P_DIGITS)}"]
    assert pids[protocol_id(P_FINAL)] != pids[protocol_id(P_DIGITS)]


def test_a_seed_with_another_protocol_gets_its_own_column(tmp_path):
    root = make_results(tmp_path)
    seed2 = next((root / "bench").glob("lada-seed2-*")) / "summary.json"
    summary = json.loads(seed2.read_text())
    summary["final"]["fid"]["protocol"] = {**P_FINAL, "n_gen": 10_000}
    seed2.write_text(json.dumps(summary))
    seed1 = next((root / "bench").glob("lada-seed1-*")) / "summary.json"
    summary = json.loads(seed1.read_text())  # a library-only difference stays comparable
    summary["final"]["fid"]["protocol"] = {**P_FINAL, "library": "torch-fidelity 0.4.1"}
    seed1.write_text(json.dumps(summary))
    results = load_results([root / "bench"])
    pids = protocol_ids(results)
    (t,) = suite_tables(results, pids)
    lada = _row(t, "g_attention=lada, d_attention=lada")["cells"]
    assert lada[f"final/fid@{protocol_id(P_FINAL)}"].text == "3.30 ± 0.28"  # seeds 0, 1
    other = lada[f"final/fid@{protocol_id({**P_FINAL, 'n_gen': 10_000})}"]
    assert other.text == "3.30" and other.stat.n == 1


def test_export_frame_has_ci_and_best_marks(bench):
    tables, _ = bench
    frame = main_results_frame(list(tables.values()))
    lada = frame[frame["variant"] == "g_attention=lada, d_attention=lada"].iloc[0]
    fid_col = next(c for c in frame.columns if c.startswith("FID · "))
    assert lada[fid_col] == "3.30 ± 0.20 [2.80, 3.80] *"
    assert list(frame.columns[:3]) == ["suite", "variant", "runs"]


@pytest.mark.parametrize("value, fmt, text", [
    (96, "si", "96"), (12_288, "si", "12.3k"), (68_096_000, "si", "68.1M"), (2.5e9, "si", "2.5G"),
    (42.4, "duration", "42 s"), (390, "duration", "6.5 min"), (141_120, "duration", "39.2 h"),
    (3.14159, "{:.2f}", "3.14"),
])
def test_format_value(value, fmt, text):
    assert format_value(value, fmt) == text


def test_kid_is_scaled_by_10_3_only_under_the_standard_protocol():
    assert metric_display("kid", P_KID) == ("KID ×10³", "{:.2f}", 1e3)
    digits_kid = {**P_DIGITS, "metric": "kid"}
    label, fmt, scale = metric_display("kid", digits_kid)
    assert (label, scale) == ("KID", 1.0) and format_value(883.00387, fmt) == "883.0"


def test_selected_checkpoint_and_last_ema_columns_are_labelled(bench):
    tables, pids = bench
    t = tables["bench"]
    pid = protocol_id(P_FINAL)
    labels = {c.key: c.label for c in t.columns}
    assert labels[f"final/fid@{pid}"] == f"FID · {pids[pid]}"
    assert labels[f"final_last/fid@{pid}"] == f"FID (last EMA) · {pids[pid]}"
    lada = _row(t, "g_attention=lada, d_attention=lada")["cells"]
    assert lada[f"final_last/fid@{pid}"].text == "3.70 ± 0.20"  # the last EMA: 0.4 higher
    assert lada["selected_images"].text == "768k ± 0"  # best.pt, not the last step (1.02M)
    digits = tables["digits"]  # final values only from the last EMA: no second column
    assert not any(c.key.startswith("final_last/") for c in digits.columns)


def test_higher_is_better_metrics_mark_the_largest_value(tmp_path):
    root = make_results(tmp_path)
    for path, recall in zip(sorted((root / "bench").glob("*-seed0-*/summary.json")), (0.4, 0.6)):
        summary = json.loads(path.read_text())
        summary["final"]["recall"] = {"value": recall, "std": None,
                                      "protocol": {**P_FINAL, "metric": "recall"}}
        path.write_text(json.dumps(summary))
    results = load_results([root / "bench"])
    (t,) = suite_tables(results, protocol_ids(results))
    key = next(c.key for c in t.columns if c.key.startswith("final/recall@"))
    cells = [r["cells"][key] for r in t.rows if r["cells"][key].stat]
    assert [(c.stat.mean, c.best) for c in cells] == [(0.4, False), (0.6, True)] or \
        [(c.stat.mean, c.best) for c in cells] == [(0.6, True), (0.4, False)]
