"""The decoded-image cache: files decoded once into one memory-mapped uint8 array.

An entry is a folder ``$LADABENCH_CACHE/decoded/<name>/`` whose name carries the content key of
the files and of the decoding (the caller's job, ``ladabench.data.folder``). Inside:
``images.npy``, a ``.npy`` array ``(N, 3, R, R)`` uint8 read with ``np.load(mmap_mode="r")``, and
``meta.json``. ``images.npy`` appears only complete (built as ``images.partial.npy``, renamed at
the end). While building, ``done.jsonl`` lists the index ranges already decoded and flushed: a
build that is killed resumes where it stopped; the ranges are written after their pixels are on
disk, so a listed range is never half-written. A lock file serialises builders of one entry
(parallel runs of a suite on the same data set wait for the first one instead of decoding twice).
"""
from __future__ import annotations

import fcntl
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import numpy as np

from ladabench.core.cache import cache_dir
from ladabench.core.errors import DataError
from ladabench.core.io import append_jsonl, read_jsonl, write_json
from ladabench.core.progress import progress_bar

#: sub-folder of the cache folder holding decoded data sets
DECODED_SUBDIR = "decoded"
#: images decoded per task (the unit of progress and of resumption)
CHUNK = 64
IMAGES, PARTIAL, DONE, META, LOCK = "images.npy", "images.partial.npy", "done.jsonl", "meta.json", ".lock"

#: ``decode(path) -> uint8 (3, R, R) array``; raises DataError naming the file
Decode = Callable[[str], np.ndarray]


def decoded_dir(name: str) -> Path:
    """The folder of the cache entry ``name`` (``$LADABENCH_CACHE/decoded/<name>``)."""
    return cache_dir() / DECODED_SUBDIR / name


def available_cores() -> int:
    """CPU cores this process may run on (its affinity: SLURM's ``--cpus-per-task``, taskset)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def open_decoded(
    entry: Path, paths: list[str], decode: Decode, shape: tuple[int, int, int], *,
    meta: dict, workers: int | None = None, chunk: int | None = None, desc: str = "decoding",
) -> np.ndarray:
    """The uint8 array ``(len(paths), *shape)`` of ``decode(path)`` for every path, memory-mapped
    read-only from ``entry/images.npy``; decoded first (in ``workers`` processes, default all
    available cores, with a progress bar) when the entry is missing or partly built."""
    final = entry / IMAGES
    if not final.is_file():
        with _locked(entry / LOCK, desc):
            if not final.is_file():
                _build(entry, paths, decode, (len(paths), *shape), meta, workers or available_cores(),
                       chunk or CHUNK, desc)
    images = np.load(final, mmap_mode="r")
    if images.shape != (len(paths), *shape) or images.dtype != np.uint8:
        raise DataError(f"{final}: holds {images.dtype} {images.shape}, expected uint8 "
                        f"{(len(paths), *shape)} (delete the folder {entry}/ to rebuild it)")
    return images


@contextmanager
def _locked(lock: Path, desc: str) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"{desc}: waiting for another process building {lock.parent}/", file=sys.stderr)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build(entry: Path, paths: list[str], decode: Decode, shape: tuple[int, ...], meta: dict,
           workers: int, chunk: int, desc: str) -> None:
    partial, done_log = entry / PARTIAL, entry / DONE
    done = _done_mask(partial, done_log, shape)
    if done is None:  # nothing usable: start afresh
        _check_space(entry, int(np.prod(shape)))
        np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape).flush()
        done_log.write_text("")
        done = np.zeros(shape[0], bool)
    offset = np.load(partial, mmap_mode="r").offset  # bytes of the .npy header
    tasks = [Task(str(partial), offset, shape[1:], decode, paths[a:b], a)
             for a, b in _todo_ranges(done, chunk)]
    with progress_bar(total=shape[0], initial=int(done.sum()), desc=desc, unit="img",
                      unit_scale=True, dynamic_ncols=True) as bar:
        for start, stop, error in _run(tasks, workers):
            if error is not None:
                raise DataError(error)
            append_jsonl(done_log, {"start": start, "stop": stop})
            bar.update(stop - start)
    write_json(entry / META, {**meta, "n": shape[0], "shape": list(shape[1:]), "dtype": "uint8"})
    os.replace(partial, entry / IMAGES)
    done_log.unlink()


def _done_mask(partial: Path, done_log: Path, shape: tuple[int, ...]) -> np.ndarray | None:
    """Which images a previous, interrupted build finished; None when there is nothing to resume."""
    if not (partial.is_file() and done_log.is_file()):
        return None
    try:
        header = np.load(partial, mmap_mode="r")
    except (OSError, ValueError):
        return None
    if header.shape != shape or header.dtype != np.uint8:
        return None
    done = np.zeros(shape[0], bool)
    for r in read_jsonl(done_log):
        done[r["start"]:r["stop"]] = True
    return done


def _check_space(entry: Path, nbytes: int) -> None:
    free = shutil.disk_usage(entry).free
    if free < nbytes * 1.05:
        raise DataError(
            f"{entry}/: the decoded images need {nbytes / 1e9:.1f} GB, {free / 1e9:.1f} GB free "
            f"(point $LADABENCH_CACHE elsewhere, or set data.cache: false to decode on access)"
        )


def _todo_ranges(done: np.ndarray, chunk: int) -> Iterator[tuple[int, int]]:
    """``[start, stop)`` runs of at most ``chunk`` images not yet done, in order."""
    i, n = 0, len(done)
    while i < n:
        if done[i]:
            i += 1
            continue
        stop = i
        while stop < n and stop - i < chunk and not done[stop]:
            stop += 1
        yield i, stop
        i = stop


class Task(NamedTuple):
    """Decode ``paths`` into rows ``start, start + 1, …`` of the partial array."""

    partial: str
    offset: int  #: where row 0 starts in the file
    row_shape: tuple[int, ...]
    decode: Decode
    paths: list[str]
    start: int


def _run(tasks: list[Task], workers: int) -> Iterator[tuple[int, int, str | None]]:
    """Results of :func:`_decode_range` per task, as they finish (in this process when one worker
    or one task suffices). A process that dies (out of memory) stops the build with a DataError;
    pending tasks are cancelled whenever the caller stops early."""
    if workers <= 1 or len(tasks) <= 1:
        yield from map(_decode_range, tasks)
        return
    pool = ProcessPoolExecutor(min(workers, len(tasks)), initializer=_one_thread)
    try:
        for future in as_completed([pool.submit(_decode_range, task) for task in tasks]):
            yield future.result()
    except BrokenProcessPool as e:
        raise DataError(f"{Path(tasks[0].partial).parent}/: a decoding process died ({e}); what was "
                        f"decoded is kept: run again to resume") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _one_thread() -> None:
    """Pool initializer: one torch thread per decoding process (the processes are the parallelism)."""
    import torch

    torch.set_num_threads(1)


def _decode_range(task: Task) -> tuple[int, int, str | None]:
    """Decode a task's files into its rows (a map of those rows only) and flush them to disk;
    the error message of the first unreadable file instead of raising (one line, picklable)."""
    row = int(np.prod(task.row_shape))
    stop = task.start + len(task.paths)
    rows = np.memmap(task.partial, np.uint8, "r+", offset=task.offset + task.start * row,
                     shape=(len(task.paths), *task.row_shape))
    try:
        for i, path in enumerate(task.paths):
            rows[i] = task.decode(path)
    except DataError as e:
        return task.start, stop, str(e)
    finally:
        rows.flush()
        del rows
    return task.start, stop, None
