"""Polling helper for tests that watch another process (local jobs, SLURM tasks)."""
from __future__ import annotations

import time
from typing import Callable


def wait_for(predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.1) -> None:
    """Poll ``predicate`` until it is true; fail the test naming ``what`` after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out after {timeout} s waiting for {what}"
        time.sleep(poll)
