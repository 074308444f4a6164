"""The throughput reference: a fixed fp32 matmul timed in the same job as the runs it
normalises (``ladabench check``, the pytest-benchmark gate), so that a slower or busier machine
of the same device class compares fairly."""
from __future__ import annotations

import statistics
import time

import torch

from ladabench.results.baseline import Reference

#: side of the fixed fp32 matmul timed as the throughput reference
REFERENCE_SIZE = 128
REFERENCE_NAME = f"matmul-fp32-{REFERENCE_SIZE}"


def measure_reference(device: str = "cpu", size: int = REFERENCE_SIZE, rounds: int = 7) -> float:
    """Fixed fp32 ``(size, size) @ (size, size)`` matmuls per second on ``device``, median of
    ``rounds`` timed rounds (median, not min: it should see the same load the runs saw)."""
    a = torch.randn(size, size, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    per_s = []
    for _ in range(rounds + 1):  # the first round warms up
        sync()
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 0.2:
            a @ a
            n += 1
        sync()
        per_s.append(n / (time.perf_counter() - t0))
    return statistics.median(per_s[1:])


def reference_now(device: str = "cpu") -> Reference:
    """The reference measured now on ``device``, in the form baselines record it."""
    return Reference(name=REFERENCE_NAME, per_s=measure_reference(device))
