"""Peak memory: training only, every session, never another run's."""
from __future__ import annotations

import torch

from ladabench.train.memory import PeakMemory


class FakeAllocator:
    """torch.cuda's peak-allocation counters."""

    def __init__(self, monkeypatch) -> None:
        self.peak = self.now = 0
        monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda device=None: self.peak)
        monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", self.reset)

    def reset(self, device=None) -> None:
        self.peak = self.now

    def use(self, n: int) -> None:
        self.peak = max(self.peak, self.now + n)


def test_the_peak_counts_training_not_evaluations_nor_earlier_runs(monkeypatch):
    alloc = FakeAllocator(monkeypatch)
    alloc.use(900)  # an earlier run in the same process (debug executor)
    memory = PeakMemory(torch.device("cuda:0"))
    alloc.use(100)  # training
    with memory.excluded():
        alloc.use(5000)  # Inception on 250 images at 299²
    alloc.use(120)
    assert memory.bytes() == 120


def test_the_peak_of_earlier_sessions_is_kept(monkeypatch):
    alloc = FakeAllocator(monkeypatch)
    memory = PeakMemory(torch.device("cuda:0"), before=300)
    alloc.use(100)
    assert memory.bytes() == 300


def test_on_the_cpu_the_peak_is_the_process_resident_set():
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert PeakMemory(torch.device("cpu")).bytes() >= rss > 0
