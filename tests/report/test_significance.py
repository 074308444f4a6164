"""FID differences vs the reference variant with Welch intervals: a difference within seed noise
is flagged, a clear one is not."""
import math

import pandas as pd
import pytest
from scipy import stats

from ladabench.cli import main
from ladabench.report.significance import fid_differences, welch_interval
from ladabench.report.tables import Stat, protocol_ids, suite_tables
from ladabench.results import load_results
from report.fixture_results import write_run

LADA = [3.1, 3.5, 3.3]
LINFORMER = [3.2, 3.6, 3.0]  # mean 3.27 vs 3.30: far inside the seeds' spread
DOT = [4.4, 4.6, 4.5]  # 1.2 higher with a spread of 0.1–0.2


@pytest.fixture(scope="module")
def sig_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sig")
    for attn, fids in (("lada", LADA), ("linformer", LINFORMER), ("dot_product", DOT)):
        for seed, fid in enumerate(fids):
            write_run(root, ("sig", attn, seed, "finished", fid, None, 100.0))
    return root


def test_fewer_than_three_seeds_get_no_interval(sig_root):
    results = load_results([sig_root / "sig"])
    keep = results.runs["seed"] < 2  # two seeds of each variant
    results.runs = results.runs[keep]
    (table,) = suite_tables(results, protocol_ids(results))
    assert fid_differences(table) == []


def test_welch_interval_equals_scipy_on_the_raw_values():
    diff, low, high, df = welch_interval(Stat.of(DOT), Stat.of(LADA))
    ci = stats.ttest_ind(DOT, LADA, equal_var=False).confidence_interval(0.95)
    assert (low, high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert diff == pytest.approx(sum(DOT) / 3 - sum(LADA) / 3)
    assert welch_interval(Stat.of([1.0, 1.0, 1.0]), Stat.of([2.0, 2.0, 2.0]))[1:3] == (-1.0, -1.0)


def test_a_difference_within_seed_noise_is_flagged_and_a_clear_one_is_not(sig_root):
    results = load_results([sig_root / "sig"])
    (table,) = suite_tables(results, protocol_ids(results))
    diffs = {d.variant.split(",")[0]: d for d in fid_differences(table)}
    assert set(diffs) == {"g_attention=lada", "g_attention=dot_product"}
    reference = diffs["g_attention=lada"].reference
    assert reference.startswith("g_attention=linformer")  # the lowest mean FID
    assert diffs["g_attention=lada"].within_noise
    dot = diffs["g_attention=dot_product"]
    assert not dot.within_noise and dot.low > 0
    assert dot.diff == pytest.approx(4.5 - sum(LINFORMER) / 3) and (dot.n, dot.n_reference) == (3, 3)
    assert math.isfinite(dot.df) and dot.df > 2


def test_the_report_states_the_method_and_the_verdicts(sig_root, tmp_path):
    out = tmp_path / "sig.html"
    assert main(["report", str(sig_root / "sig"), "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Welch t-interval (unequal variances), 95 %" in html
    assert html.count("within seed noise</td>") == 1
    assert html.count("differs beyond seed noise</td>") == 1
    exported = pd.read_csv(tmp_path / "sig_files" / "significance.csv")
    assert 'href="sig_files/significance.csv"' in html
    assert sorted(exported["within_noise"]) == [False, True]
    dot = exported[exported["variant"].str.startswith("g_attention=dot_product")].iloc[0]
    assert dot["reference"].startswith("g_attention=linformer")
    assert dot["diff"] == pytest.approx(4.5 - sum(LINFORMER) / 3)
    assert dot["low"] > 0 and dot["method"] == "Welch t-interval (unequal variances), 95 %"
