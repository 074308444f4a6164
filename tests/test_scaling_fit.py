import numpy as np
import pandas as pd
import pytest

from ladabench.scaling_fit import crossover, log_slope


def test_log_slope_recovers_the_power():
    n = np.array([256.0, 1024.0, 4096.0])
    assert log_slope(n, 3e-6 * n**2) == pytest.approx(2.0)


def test_crossover_is_where_the_curve_stays_below_and_ties_count_unless_strict():
    ref = pd.Series([1.0, 4.0, 16.0, 64.0], index=[64, 128, 256, 512])
    curve = pd.Series([2.0, 4.0, 8.0, 16.0], index=[64, 128, 256, 512])
    assert crossover(curve, ref) == 128
    assert crossover(curve, ref, strict=True) == 256
    assert crossover(ref * 2, ref) is None
