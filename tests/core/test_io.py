import contextlib
import errno
import json
import sys

import pytest
import torch

from ladabench.core import io


def test_atomic_open_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "a.json"
    io.write_json(path, {"v": 1})
    with pytest.raises(RuntimeError):
        with io.atomic_open(path) as f:
            f.write('{"v": 2')
            raise RuntimeError("crash mid-write")
    assert json.loads(path.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]  # no temp file left behind


def test_torch_save_roundtrip(tmp_path):
    path = tmp_path / "ckpt.pt"
    io.torch_save({"w": torch.arange(3)}, path)
    assert torch.equal(torch.load(path, weights_only=True)["w"], torch.arange(3))


def test_read_jsonl_ignores_torn_last_line(tmp_path):
    path = tmp_path / "m.jsonl"
    io.append_jsonl(path, {"step": 1})
    io.append_jsonl(path, {"step": 2})
    with open(path, "a") as f:
        f.write('{"step": 3, "lo')
    assert [r["step"] for r in io.read_jsonl(path)] == [1, 2]


def test_read_jsonl_raises_on_corrupt_middle_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1}\nnot json\n{"step": 3}\n')
    with pytest.raises(json.JSONDecodeError):
        io.read_jsonl(path)


def test_atomic_files_get_the_umask_mode(tmp_path):
    import os

    old = os.umask(0o022)
    try:
        io.write_text(tmp_path / "r.html", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o644


def test_a_torn_last_line_is_cut_before_appending(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "loss": 0.')  # a write cut short
    assert io.repair_jsonl(path) == len('{"step": 3, "loss": 0.')
    io.append_jsonl(path, {"step": 3})
    assert io.read_jsonl(path) == [{"step": 1}, {"step": 2}, {"step": 3}]
    assert io.repair_jsonl(path) == 0  # a whole file is left alone
    path.write_text('{"step": 1}\n{"ste\n')  # torn, then a newline from the next writer
    assert io.repair_jsonl(path) == len('{"ste\n') and io.read_jsonl(path) == [{"step": 1}]


def test_temp_files_of_killed_writes_are_removed(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    stale = [tmp_path / ".summary.json.abc123.tmp", tmp_path / "checkpoints" / ".last.pt.x9.tmp"]
    for p in stale:
        p.write_text("half")
    (tmp_path / "summary.json").write_text("{}")
    assert io.remove_temp_files(tmp_path) == sorted(stale)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["summary.json"]


def test_a_full_disk_is_one_clear_error_and_the_old_file_survives(tmp_path, monkeypatch):
    path = tmp_path / "summary.json"
    io.write_json(path, {"status": "running", "step": 40})

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.os, "fsync", full)
    with pytest.raises(io.DiskFullError, match=rf"^no space left on /\S* writing {path}$"):
        io.write_json(path, {"status": "failed"})
    assert json.loads(path.read_text()) == {"status": "running", "step": 40}
    assert list(tmp_path.glob(io.TEMP_GLOB)) == []


def test_an_append_to_a_full_disk_is_one_clear_error():
    with pytest.raises(io.DiskFullError, match="no space left on .* writing /dev/full"):
        io.append_jsonl("/dev/full", {"step": 1})


def test_torch_save_over_quota_is_one_line_though_the_disk_has_room(tmp_path, monkeypatch):
    """A quota (EDQUOT) leaves free space on the disk: torch's zip writer still fails with a
    RuntimeError, whose context is the write's OSError."""
    path = tmp_path / "ck.pt"
    io.torch_save(torch.zeros(10), path)
    real_open = io.atomic_open

    class OverQuota:  # the quota runs out after the zip header (torch raises the OSError
        written = 0     # itself when the very first write fails)

        def write(self, data):
            self.written += len(data)
            if self.written > 1000:
                raise OSError(errno.EDQUOT, "Disk quota exceeded")
            return len(data)

        def flush(self):
            pass

    @contextlib.contextmanager
    def over_quota(target, mode):
        with real_open(target, mode):
            yield OverQuota()

    monkeypatch.setattr(io, "atomic_open", over_quota)
    with pytest.raises(io.DiskFullError, match=rf"^no space left on /\S* writing {path}$"):
        io.torch_save(torch.zeros(2**16), path)
    assert torch.load(path).numel() == 10


def test_torch_save_on_a_really_full_disk_is_one_line_and_keeps_the_old_file(tmp_path):
    from small_disk import run_on_small_disk

    disk = tmp_path / "disk"
    script = f"""
{sys.executable} - <<'PY'
import torch
from ladabench.core import io
io.torch_save(torch.zeros(10), "{disk}/ck.pt")
try:
    io.torch_save(torch.zeros(2**20), "{disk}/ck.pt")
except io.DiskFullError as e:
    print("ERROR", e)
print("OLD", torch.load("{disk}/ck.pt").numel())
import os
print("TEMP", [n for n in os.listdir("{disk}") if n.endswith(".tmp")])
PY
"""
    done = run_on_small_disk(disk, 1024, script)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"ERROR no space left on {disk} writing {disk}/ck.pt\n" in done.stdout
    assert "OLD 10\n" in done.stdout and "TEMP []\n" in done.stdout
