"""Peak memory of a run's training, over all its sessions (``summary.peak_memory_bytes``).

CUDA: torch's peak allocation on the run's device, reset when a session starts (a process that
trained another run before, as the debug executor does, does not leak into it) and around
each evaluation (Inception at 299² on batches of 250 is not what training needs). CPU: the
process's peak resident set size, which cannot be reset: it includes evaluations."""
from __future__ import annotations

import resource
from contextlib import contextmanager
from typing import Iterator

import torch


def _peak_now(device: torch.device) -> int:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)


class PeakMemory:
    """The training peak so far; ``before`` is the earlier sessions' (from the summary)."""

    def __init__(self, device: torch.device, before: int | None = None) -> None:
        self.device, self.peak = device, before or 0
        _reset(device)

    def bytes(self) -> int:
        return max(self.peak, _peak_now(self.device))

    @contextmanager
    def excluded(self) -> Iterator[None]:
        """Memory used inside this block does not count (on CUDA)."""
        self.peak = self.bytes()
        try:
            yield
        finally:
            _reset(self.device)
