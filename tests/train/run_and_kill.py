"""Subprocess of the kill-and-resume test: train a tiny config and SIGKILL itself after
``KILL_AFTER`` steps (between two checkpoints). Usage: run_and_kill.py CONFIG.yaml OUT KILL_AFTER"""
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tiny import register_tiny  # noqa: E402

register_tiny()

from ladabench.config import load_run_config  # noqa: E402
from ladabench.train import run  # noqa: E402

config, out, kill_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = 0


def should_stop() -> bool:
    global calls
    calls += 1
    if calls == kill_after:
        os.kill(os.getpid(), signal.SIGKILL)
    return False


run(load_run_config(config), out, quiet=True, should_stop=should_stop)
