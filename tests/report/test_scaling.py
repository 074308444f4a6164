"""ladabench.report.scaling: exponents and crossovers from a scaling CSV."""
import pytest

from ladabench.core.errors import DataError
from ladabench.report.scaling import fits, load_scaling
from report.fixture_results import write_scaling


def test_fitted_exponents_and_crossovers(tmp_path):
    write_scaling(tmp_path)
    got = {(f.variant, f.measure): f for f in fits(load_scaling([tmp_path]))}
    assert got[("lada", "time_ms")].exponent == pytest.approx(1.0)
    assert got[("dot_product", "time_ms")].exponent == pytest.approx(2.0)
    assert got[("lada", "time_ms")].crossover_tokens == 1024  # 1e-3·N ≤ 1e-6·N² from N = 1000
    assert got[("lada", "macs")].crossover_tokens == 64  # cheaper at every N
    assert got[("dot_product", "time_ms")].crossover_tokens is None


def test_csv_without_required_columns_is_a_data_error(tmp_path):
    (tmp_path / "scaling.csv").write_text("attention,n,time_ms\nlada,64,1\n")
    with pytest.raises(DataError, match=r"scaling\.csv: missing column\(s\) variant, tokens"):
        load_scaling([tmp_path])
