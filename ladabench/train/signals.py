"""Graceful stops. SIGTERM (``kill``, ``scancel``, a cluster's shutdown) and SIGINT (Ctrl-C) ask
the trainer to write a checkpoint at the next step boundary and stop with status
``interrupted``; the CLI then exits 128 + the signal number (143, 130), as shells expect. A
second Ctrl-C aborts at once (KeyboardInterrupt): the run resumes from its last periodic
checkpoint. SLURM's pre-timeout SIGUSR2 is the launcher's (``ladabench.launch.jobs``): it
requeues the task instead.

Handlers can only be installed from the main thread; in another thread (a thread-pool
executor) the process keeps its own handlers."""
from __future__ import annotations

import signal
import sys
import threading
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignals:
    """While active, records the first stop signal instead of dying; ``is_set`` is polled by the
    training loop at step boundaries."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signum == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        print(f"{self.name}: stopping after a checkpoint at the next step boundary "
              "(Ctrl-C again aborts without one)", file=sys.stderr, flush=True)

    def is_set(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str | None:
        """``SIGTERM`` / ``SIGINT``, None before a signal arrived."""
        return signal.Signals(self.signum).name if self.signum is not None else None
