"""A real ``ladabench train`` process for the fault tests, with one fault injected before a
given training step (1-based). Usage:

    train_child.py CONFIG OUT [ACTION STEP]

ACTION: ``SIGTERM`` / ``SIGINT`` (the process signals itself), ``hold`` (writes OUT.held, then
waits up to 60 s for OUT.release: another process can act meanwhile), ``fill`` (fills the disk
that holds OUT with OUT/../filler). Exits with the CLI's exit code."""
import errno
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from tiny import register_tiny  # noqa: E402

register_tiny()

from ladabench.cli.main import main  # noqa: E402
from ladabench.train.loop import Trainer  # noqa: E402

config, out = sys.argv[1], Path(sys.argv[2])
action, at = (sys.argv[3], int(sys.argv[4])) if len(sys.argv) > 4 else (None, 0)


def fill_disk(path: Path) -> None:
    with open(path, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 2**16)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC


def hold() -> None:
    Path(f"{out}.held").touch()
    deadline = time.monotonic() + 60
    while not Path(f"{out}.release").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def inject() -> None:
    if action in ("SIGTERM", "SIGINT"):
        os.kill(os.getpid(), signal.Signals[action])
    elif action == "hold":
        hold()
    elif action == "fill":
        fill_disk(out.parent / "filler")


step = Trainer.train_step


def faulty_step(self, real):
    if self.step + 1 == at:
        inject()
    step(self, real)


Trainer.train_step = faulty_step
sys.exit(main(["train", config, "--out", str(out), "--quiet"]))
