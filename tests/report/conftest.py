"""Shared fixture results for the report tests (written once per session)."""
import pytest

from report.fixture_results import make_results


@pytest.fixture(scope="session")
def results_root(tmp_path_factory):
    return make_results(tmp_path_factory.mktemp("results"))


@pytest.fixture(scope="session")
def fixture_results(results_root):
    from ladabench.results import load_results

    return load_results([results_root / "bench", results_root / "digits"])
