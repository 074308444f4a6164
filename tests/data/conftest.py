"""Fixtures for the data tests: a private cache folder (decoded folder data sets land there)."""
import pytest

from ladabench.core.cache import CACHE_ENV


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch):
    """A fresh ``$LADABENCH_CACHE`` per test: no test reads another's decoded images."""
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(CACHE_ENV, str(cache))
    return cache
