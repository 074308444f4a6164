"""A real full disk for the fault tests: a shell script run in a private mount namespace
(``unshare``) with a small tmpfs mounted on a folder, so that writes there end with ENOSPC.
Tests skip when the machine forbids user namespaces (a container without them)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def run_on_small_disk(mount: Path, size_kib: int, script: str, timeout: int = 300,
                      env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``script`` (bash) with a tmpfs of ``size_kib`` KiB mounted on ``mount``; the tmpfs
    vanishes afterwards, so the script copies what the test needs elsewhere."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) to make a small file system")
    mount.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", str(mount)],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs in a user namespace: {probe.stderr.strip()}")
    full = f"set -u\nmount -t tmpfs -o size={size_kib}k tmpfs {mount}\n{script}"
    return subprocess.run(["unshare", "-rm", "bash", "-c", full], capture_output=True, text=True,
                          timeout=timeout, env=env)
