"""Files that survive faults: atomic writes (a reader never sees a half-written file: temp file
in the same folder, fsync, then ``os.replace``), JSON-lines appends that repair a torn last line,
clean-up of the temp files of killed writes, and one clear error when the disk is full."""
from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator

import yaml

from ladabench.core.errors import LadabenchError

#: what atomic writes name their temp files (``.<name>.<random>.tmp``)
TEMP_GLOB = ".*.tmp"
_FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFullError(LadabenchError):
    """No space (or quota) left on the device that holds a file being written."""


def mount_point(path: Path) -> Path:
    """The mount point of the file system holding ``path`` (the "device" users know)."""
    path = path.resolve()
    while not path.is_mount():
        path = path.parent
    return path


def disk_full(path: str | os.PathLike) -> DiskFullError:
    path = Path(path)
    folder = path.parent if path.parent.exists() else Path.cwd()
    return DiskFullError(f"no space left on {mount_point(folder)} writing {path}")


def free_bytes(folder: str | os.PathLike) -> int:
    return shutil.disk_usage(folder).free


def require_free_space(path: str | os.PathLike, need: int) -> None:
    """A DiskFullError before writing ``need`` bytes to ``path`` when its file system has less
    free (an atomic write holds the old and the new file at once, so ``need`` is a whole file)."""
    path = Path(path)
    folder = path.parent if path.parent.exists() else Path.cwd()
    free = free_bytes(folder)
    if free < need:
        raise DiskFullError(f"only {free / 2**20:.1f} MiB free on {mount_point(folder)}, "
                            f"{need / 2**20:.1f} MiB needed writing {path}")


def overwrite_text(path: str | os.PathLike, text: str) -> None:
    """Rewrite a small file in place, for when the disk is too full for an atomic write's temp
    copy: truncating first frees the file's own blocks for the new text. Not atomic (a crash
    in between leaves it torn), so only the last resort of a failing run's status."""
    try:
        with open(path, "r+", encoding="utf-8") as f:
            f.truncate(0)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        if e.errno in _FULL:
            raise disk_full(path) from None
        raise


def remove_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temp files that killed atomic writes left in ``folder`` (recursively)."""
    removed = sorted(Path(folder).rglob(TEMP_GLOB))
    for tmp in removed:
        tmp.unlink(missing_ok=True)
    return removed


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temp file beside ``path``; on success it replaces ``path``, on error it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        if e.errno in _FULL:
            raise disk_full(path) from None
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json_text(obj))


def write_yaml(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, yaml.safe_dump(obj, sort_keys=False))


def torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` through a temp file + rename (a crash leaves the previous file intact). A
    full disk or quota is a DiskFullError (torch's zip writer reports it as a RuntimeError, the
    write's OSError as its context when it can)."""
    import torch

    with atomic_open(path, "wb") as f:
        try:
            torch.save(obj, f)
        except RuntimeError as e:
            write_error = e.__context__
            quota = isinstance(write_error, OSError) and write_error.errno in _FULL
            if quota or free_bytes(Path(path).parent) == 0:
                raise disk_full(path) from None
            raise


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line with a single write (readers ignore a torn last line; the writer
    repairs one with :func:`repair_jsonl` before appending after a crash)."""
    line = json.dumps(record, sort_keys=True, default=float) + "\n"
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
    except OSError as e:
        if e.errno in _FULL:
            raise disk_full(path) from None
        raise


def repair_jsonl(path: str | os.PathLike) -> int:
    """Cut a torn last line (a write that a crash or a full disk interrupted) off ``path``;
    return the number of bytes removed (0 when the file ends with a complete line)."""
    path = Path(path)
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = len(data)
    if data and not data.endswith(b"\n"):
        keep = data.rfind(b"\n") + 1
    elif data:
        last = data[data.rfind(b"\n", 0, len(data) - 1) + 1:]
        try:
            json.loads(last)
        except ValueError:
            keep = len(data) - len(last)
    if keep < len(data):
        with open(path, "r+b") as f:
            f.truncate(keep)
    return len(data) - keep


def rewrite_jsonl(path: str | os.PathLike, records: list[dict]) -> None:
    """Replace ``path`` by ``records`` atomically (one JSON object a line)."""
    write_text(path, "".join(json.dumps(r, sort_keys=True, default=float) + "\n"
                             for r in records))


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON-lines file, skipping a torn (unparseable) last line."""
    records = []
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break
            raise
    return records
