"""The run directory (docs/architecture.md, contracts 1-3): its layout, the run statuses, every
read and write of ``summary.json`` and ``provenance.json``, and the lock that gives a run
directory to one process at a time.

```
<run_dir>/config.yaml  metrics.jsonl  summary.json  provenance.json
          checkpoints/{last,best}.pt  samples/{grid,attn}_<images_seen:012d>.{png,npz}
```

Torch-free: the trainer, the launcher, ``status``, the result readers and the gate all use it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ladabench.core.errors import ConfigError, LadabenchError
from ladabench.core.io import DiskFullError, json_text, overwrite_text, write_json

STATUSES = ("pending", "running", "interrupted", "finished", "diverged", "failed")
#: statuses after which a run is complete: never trained again without ``--force``
FINISHED = ("finished", "diverged")
#: the files that make a folder a run directory
RUN_FILES = ("config.yaml", "summary.json", "metrics.jsonl", "provenance.json")
#: ``status`` of a run directory without a summary yet
NEW = "new"
#: suite and run names become folder names: one path component of a safe alphabet, no leading
#: dot or dash (so never ``..``, a hidden folder or an option)
SAFE_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.+=-]{0,127}$"
#: folders a results tree or a run directory may never be (nor be the parent of in the case of
#: the filesystem root): writing runs there would litter the system
SYSTEM_FOLDERS = ("/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root",
                  "/run", "/sbin", "/sys", "/usr", "/var")


def check_output_folder(path: str | Path, key: str) -> Path:
    """``path`` if a results tree may be written there; a system folder (or the filesystem root)
    is a ConfigError naming ``key``."""
    resolved = Path(path).expanduser().resolve()
    if str(resolved) in SYSTEM_FOLDERS or resolved == Path.home():
        raise ConfigError(f"{path!s} resolves to the system folder {resolved}; choose a folder "
                          "of your own for results", key=key)
    return Path(path)


def check_run_folder(path: Path) -> None:
    """A ConfigError unless ``path`` is new, empty or a run directory (it holds one of
    ``RUN_FILES`` or the lock): a session start deletes temp files (``.*.tmp``) at any depth
    of its run directory, so a run must not move into a folder of other files."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: a file; expected a run directory (a new or empty folder)")
    entries = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
    if entries and not set(entries) & {*RUN_FILES, ".lock"}:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise ConfigError(f"{path}: a folder with other files ({shown}) that is not a run "
                          "directory; train into a new or empty folder")


def _file(relative: str) -> property:
    return property(lambda self: self.path / relative, doc=f"``<run_dir>/{relative}``")


@dataclass(frozen=True)
class RunDir:
    """The paths of one run directory."""

    path: Path
    config = _file("config.yaml")
    metrics = _file("metrics.jsonl")
    summary = _file("summary.json")
    provenance = _file("provenance.json")
    lock = _file(".lock")
    last = _file("checkpoints/last.pt")
    best = _file("checkpoints/best.pt")
    samples = _file("samples")


def new_summary(run_id: str, suite: str | None, config_hash: str,
                world_size: int = 1) -> dict[str, Any]:
    """A summary with every contract key, status ``pending``; ``world_size``: the processes it
    is launched as (each session records its own)."""
    return {
        "status": "pending", "run_id": run_id, "suite": suite, "world_size": world_size,
        "config_hash": config_hash, "step": 0, "images_seen": 0, "wall_time_s": 0.0,
        "train_seconds": 0.0, "train_cpu_seconds": 0.0, "stopped_by": None,
        "params": None, "macs": None, "cost_convention": None, "train_macs_total": 0, "img_per_s": None,
        "peak_memory_bytes": None, "final": {}, "final_last": {}, "best": {}, "spikes": 0,
        "diverged_at": None, "error": None, "provenance_sha256": None, "last_checkpoint": None,
    }


def read_summary(rd: RunDir) -> dict[str, Any] | None:
    """The parsed ``summary.json``, None when there is none yet."""
    if not rd.summary.exists():
        return None
    return json.loads(rd.summary.read_text(encoding="utf-8"))


def run_status(rd: RunDir) -> str:
    """``new`` (no summary yet) or the run's status: the one in ``summary.json``, except that a
    run whose summary says ``running`` while no process holds its lock was stopped without
    saying so (SIGKILL, a node failure): ``interrupted``."""
    summary = read_summary(rd)
    return NEW if summary is None else effective_status(rd, str(summary.get("status", "unknown")))


def effective_status(rd: RunDir, status: str) -> str:
    """``status`` as written, or ``interrupted`` for a ``running`` run that no process owns."""
    return "interrupted" if status == "running" and lock_owner(rd) is None else status


#: how long a trainer retries the lock: a ``lock_owner`` probe holds it for microseconds
PROBE_GRACE_S = 0.5


def _lock_exclusive(f: Any) -> bool:
    """Take the exclusive lock of ``f``, waiting out probes; False when a trainer holds it."""
    deadline = time.monotonic() + PROBE_GRACE_S
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)


class RunLockedError(LadabenchError):
    """Another live process trains in this run directory."""

    exit_code = 2


def _owner_record() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID")}


def _read_owner(rd: RunDir) -> dict[str, Any]:
    try:
        return json.loads(rd.lock.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def describe_owner(owner: dict[str, Any]) -> str:
    """``pid 123 on node7, SLURM job 42``: who holds a run directory's lock."""
    job = f", SLURM job {owner['slurm_job_id']}" if owner.get("slurm_job_id") else ""
    return f"pid {owner.get('pid', '?')} on {owner.get('host', '?')}{job}"


def lock_owner(rd: RunDir) -> dict[str, Any] | None:
    """Who holds the run directory's lock (pid, host, SLURM job id), or None when no live
    process does. A lock file left by a dead process is not held: the OS drops the lock of a
    process that ends, however it ends."""
    if not rd.lock.exists():
        return None
    with open(rd.lock, encoding="utf-8") as f:  # read-only: status works on a read-only tree
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_owner(rd) or {"pid": "?", "host": "?"}
        fcntl.flock(f, fcntl.LOCK_UN)
    return None


class RunLock:
    """An exclusive OS lock (``flock``) on ``<run_dir>/.lock``, held while a process trains in
    the run directory; the file records the owner. A second trainer fails at once with
    RunLockedError naming the owner. The OS releases the lock when its process ends (even by
    SIGKILL), so a lock left by a dead process is simply taken over (``stale_owner`` says whose
    it was). On NFS, Linux maps ``flock`` to NFS byte-range locks (a lock daemon is needed);
    on Lustre mount with ``-o flock``; elsewhere a node-local lock cannot protect a shared
    folder."""

    def __init__(self, rd: RunDir) -> None:
        self.rd = rd
        self.stale_owner: dict[str, Any] | None = None
        self._file: Any = None

    def __enter__(self) -> "RunLock":
        self.rd.path.mkdir(parents=True, exist_ok=True)
        f = open(self.rd.lock, "a+", encoding="utf-8")
        if not _lock_exclusive(f):
            f.close()
            raise RunLockedError(f"{self.rd.path}: another process trains in this run directory "
                                 f"({describe_owner(_read_owner(self.rd))}); wait for it or stop it "
                                 "first") from None
        self.stale_owner = _read_owner(self.rd) or None
        f.seek(0)
        f.truncate()
        f.write(json.dumps(_owner_record()))
        f.flush()
        self._file = f
        return self

    def __exit__(self, *exc: Any) -> None:
        self._file.seek(0)
        self._file.truncate()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def write_summary(rd: RunDir, summary: dict[str, Any]) -> None:
    if summary["status"] not in STATUSES:
        raise ValueError(f"unknown run status {summary['status']!r}")
    try:
        write_json(rd.summary, summary)
    except DiskFullError:
        if not rd.summary.exists():
            raise
        # no room for the temp copy: a full disk must still end with a truthful status
        overwrite_text(rd.summary, json_text(summary))


def write_provenance(rd: RunDir, record: dict[str, Any]) -> str:
    """Write this session's provenance (earlier sessions kept under ``previous``); return the
    sha256 of the file written."""
    if rd.provenance.exists():
        old = json.loads(rd.provenance.read_text(encoding="utf-8"))
        record = {**record, "previous": old.pop("previous", []) + [old]}
    write_json(rd.provenance, record)
    return hashlib.sha256(rd.provenance.read_bytes()).hexdigest()
