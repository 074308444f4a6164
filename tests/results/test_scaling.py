"""ladabench.results.scaling: the one rule that summarises a scaling sweep."""
import numpy as np
import pandas as pd
import pytest

from ladabench.results.scaling import (crossover, exponent, fit_curve, format_summary, log_slope,
                                       summarize)


def test_log_slope_recovers_the_power():
    n = np.array([256.0, 1024.0, 4096.0])
    assert log_slope(n, 3e-6 * n**2) == pytest.approx(2.0)


def test_crossover_is_where_the_curve_stays_strictly_below():
    ref = pd.Series([1.0, 4.0, 16.0, 64.0], index=[64, 128, 256, 512])
    curve = pd.Series([2.0, 4.0, 8.0, 16.0], index=[64, 128, 256, 512])
    assert crossover(curve, ref) == 256  # a tie at 128 is not "below"
    assert crossover(ref * 2, ref) is None
    assert crossover(pd.Series([2.0, 1.0, 4.0, 3.0], index=[1, 2, 3, 4]),
                     pd.Series([1.0, 2.0, 3.0, 4.0], index=[1, 2, 3, 4])) == 4


def test_exponent_uses_only_large_n_and_needs_two_points():
    n = np.array([64, 256, 1024, 4096])
    # a fixed overhead at small N bends the curve; only N >= 1024 is fitted
    curve = pd.Series(np.where(n < 1024, 50.0, 1e-6 * n.astype(float) ** 2), index=n)
    assert exponent(curve) == pytest.approx(2.0)
    assert exponent(curve[curve.index < 4096]) is None


def test_sweep_summary_and_report_fit_agree():
    rows = []
    for n in (256, 1024, 4096, 16384):
        rows.append({"variant": "dot_product", "scope": "layer", "tokens": n,
                     "time_ms": 1e-6 * n * n, "status": "ok" if n < 16384 else "skipped"})
        rows.append({"variant": "lada", "scope": "layer", "tokens": n, "time_ms": 2e-3 * n,
                     "status": "ok"})
    df = pd.DataFrame(rows)
    summary = summarize(df)["layer"]
    assert summary["dot_product"]["skipped"] == [16384]
    assert summary["dot_product"]["exponent"] == pytest.approx(2.0)  # 16384 not measured
    assert summary["lada"]["crossover_vs_dot_product"] == 4096  # 2e-3·N < 1e-6·N² from N > 2000
    assert fit_curve(df, "lada", "layer", "time_ms") == (
        summary["lada"]["exponent"], summary["lada"]["crossover_vs_dot_product"])
    assert "lada: exponent  1.00  crossover 4096" in format_summary(summarize(df))
