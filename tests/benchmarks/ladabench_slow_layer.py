"""pytest plugin (``-p ladabench_slow_layer``) for the throughput-gate tests: an autouse fixture
that makes every Lada attention forward sleep ``LADABENCH_SLOW_S`` seconds (a deliberately
slowed layer)."""
from __future__ import annotations

import os
import time

import pytest

from ladabench.attention.lada import LadaAttention


@pytest.fixture(autouse=True)
def slowed_lada(monkeypatch: pytest.MonkeyPatch) -> None:
    delay = float(os.environ.get("LADABENCH_SLOW_S", "0.005"))
    forward = LadaAttention.forward

    def slow_forward(self, *args, **kwargs):
        time.sleep(delay)
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(LadaAttention, "forward", slow_forward)
