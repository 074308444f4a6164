"""ladabench.core.rundir: one process per run directory, and a status that tells the truth
after any stop."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from ladabench.core.rundir import (RunDir, RunLock, RunLockedError, lock_owner, run_status,
                                   write_summary)

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from ladabench.core.rundir import RunDir, RunLock
    lock = RunLock(RunDir(Path(sys.argv[1]))).__enter__()
    print("held", flush=True)
    time.sleep(60)
""")


PROBE = textwrap.dedent("""
    import fcntl, sys, time
    with open(sys.argv[1]) as f:
        fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)  # what lock_owner does, held longer
        print("probing", flush=True)
        time.sleep(0.2)
""")


@pytest.fixture
def holder(tmp_path):
    """A real second process holding the run directory's lock (killed at the end)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc
    proc.kill()
    proc.wait()


def test_a_second_trainer_is_refused_naming_the_owner(tmp_path, holder):
    rd = RunDir(tmp_path)
    with pytest.raises(RunLockedError, match=rf"another process trains in this run directory "
                                             rf"\(pid {holder.pid} on "):
        RunLock(rd).__enter__()
    assert lock_owner(rd)["pid"] == holder.pid


def test_a_trainer_starting_during_a_status_probe_waits_it_out(tmp_path):
    rd = RunDir(tmp_path)
    rd.lock.write_text("")
    probe = subprocess.Popen([sys.executable, "-c", PROBE, str(rd.lock)], stdout=subprocess.PIPE,
                             text=True)
    assert probe.stdout.readline().strip() == "probing"
    with RunLock(rd):  # refused at once before: the probe's shared lock looked like a trainer
        assert lock_owner(rd)["pid"] != probe.pid
    probe.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path, holder):
    rd = RunDir(tmp_path)
    holder.kill()
    holder.wait()
    assert lock_owner(rd) is None  # the OS dropped the dead process's lock
    with RunLock(rd) as lock:
        assert lock.stale_owner["pid"] == holder.pid
        assert lock_owner(rd)["pid"] != holder.pid  # this process now


def test_running_without_a_live_owner_reads_as_interrupted(tmp_path, holder):
    rd = RunDir(tmp_path)
    write_summary(rd, {"status": "running"})
    assert run_status(rd) == "running"
    holder.kill()
    holder.wait()
    assert run_status(rd) == "interrupted"
    write_summary(rd, {"status": "finished"})
    assert run_status(rd) == "finished"
    assert json.loads(rd.summary.read_text())["status"] == "finished"
