"""Training tests: a tiny registered preset, and one torch thread (the shared 2-core machine is
oversubscribed; OpenMP spin-waits make 2 threads many times slower than 1 under load)."""
from __future__ import annotations

import pytest

from .tiny import register_tiny

register_tiny()


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every training test runs on one torch thread (see tests/conftest.py)."""
