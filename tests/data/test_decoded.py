"""ladabench/data/decoded.py: the decoded-image cache is built in parallel, appears only
complete, resumes after a SIGKILL with identical bytes, waits for another builder, and refuses
to start without the disk space."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import namedtuple

import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.config import DataConfig
from ladabench.core.errors import DataError
from ladabench.data import build_source, build_uint8_dataset
from ladabench.data import decoded
from ladabench.data.decoded import DONE, IMAGES, LOCK, META, PARTIAL, decoded_dir

N = 40


@pytest.fixture
def noise(tmp_path):
    root = tmp_path / "noise"
    root.mkdir()
    rng = np.random.RandomState(0)
    for i in range(N):
        Image.fromarray(rng.randint(0, 256, (8, 8, 3), np.uint8)).save(root / f"{i:03d}.png")
    return root


def _cfg(root) -> DataConfig:
    return DataConfig(name="folder", root=str(root), resolution=4)


def _entry(root):
    return decoded_dir(build_source(_cfg(root)).cache_name())


def _bytes(entry) -> bytes:
    return (entry / IMAGES).read_bytes()


KILL_AT_THIRD_RANGE = """
    import os, signal
    from ladabench.config import DataConfig
    from ladabench.data import build_uint8_dataset, decoded

    decoded.CHUNK = 5
    decoded.available_cores = lambda: 1  # decode in this process, the one killed
    real, calls = decoded._decode_range, []

    def decode_then_die(task):
        result = real(task)  # the range's pixels are written and flushed ...
        calls.append(task)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)  # ... but never recorded as done
        return result

    decoded._decode_range = decode_then_die
    build_uint8_dataset(DataConfig(name="folder", root={root!r}, resolution=4))
"""


def test_a_killed_build_resumes_where_it_stopped_with_identical_bytes(noise, monkeypatch, tmp_path):
    script = textwrap.dedent(KILL_AT_THIRD_RANGE.format(root=str(noise)))
    proc = subprocess.run([sys.executable, "-c", script], env=os.environ.copy(), timeout=120,
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    entry = _entry(noise)
    assert not (entry / IMAGES).exists() and not (entry / META).exists()  # never half a cache
    assert (entry / PARTIAL).is_file()
    assert (entry / DONE).read_text().splitlines() == ['{"start": 0, "stop": 5}', '{"start": 5, "stop": 10}']

    decoded_rows = []
    real = decoded._decode_range
    monkeypatch.setattr(decoded, "available_cores", lambda: 1)  # in this process, to count
    monkeypatch.setattr(decoded, "CHUNK", 7)  # other chunks than the killed build: still resumes
    monkeypatch.setattr(decoded, "_decode_range",
                        lambda task: decoded_rows.extend(range(task.start, task.start + len(task.paths)))
                        or real(task))
    resumed = build_uint8_dataset(_cfg(noise)).source.images(torch.arange(N))
    assert decoded_rows == list(range(10, N))  # the third range was decoded again, no other
    assert not (entry / PARTIAL).exists() and not (entry / DONE).exists()

    monkeypatch.setenv("LADABENCH_CACHE", str(tmp_path / "fresh"))
    fresh = build_uint8_dataset(_cfg(noise).model_copy(update={"cache": False}))
    assert np.array_equal(resumed.numpy(), fresh.source.images(torch.arange(N)).numpy())
    monkeypatch.setattr(decoded, "_decode_range", real)
    monkeypatch.setattr(decoded, "available_cores", lambda: 2)
    build_uint8_dataset(_cfg(noise))  # two processes, 7 images a task
    assert _bytes(_entry(noise)) == _bytes(entry)


def test_a_parallel_build_equals_a_serial_one_and_names_an_unreadable_file(noise, monkeypatch,
                                                                           tmp_path):
    monkeypatch.setattr(decoded, "CHUNK", 3)
    monkeypatch.setattr(decoded, "available_cores", lambda: 1)
    serial = build_uint8_dataset(_cfg(noise))
    serial_bytes = _bytes(_entry(noise))
    monkeypatch.setattr(decoded, "available_cores", lambda: 2)
    monkeypatch.setenv("LADABENCH_CACHE", str(tmp_path / "parallel"))
    parallel = build_uint8_dataset(_cfg(noise))
    assert _bytes(_entry(noise)) == serial_bytes
    assert np.array_equal(parallel.source.images(torch.arange(N)), serial.source.images(torch.arange(N)))

    (noise / "031.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=rf"^{noise}/031.png: cannot read image \([^\n]*\)$"):
        build_uint8_dataset(_cfg(noise))
    entry = _entry(noise)
    assert not (entry / IMAGES).exists() and (entry / PARTIAL).is_file()  # kept for the resume


def test_a_second_builder_waits_for_the_first(noise, capsys):
    import fcntl

    entry = _entry(noise)
    entry.mkdir(parents=True)
    with open(entry / LOCK, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        builder = threading.Thread(target=build_uint8_dataset, args=(_cfg(noise),))
        builder.start()
        deadline = time.monotonic() + 120
        while "waiting for another process" not in capsys.readouterr().err:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert not (entry / IMAGES).exists() and builder.is_alive()
        fcntl.flock(held, fcntl.LOCK_UN)
    builder.join(120)
    assert (entry / IMAGES).is_file()


def test_no_build_without_the_disk_space(noise, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(decoded.shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
    entry = _entry(noise)
    with pytest.raises(DataError, match=rf"^{entry}/: the decoded images need 0.0 GB, 0.0 GB free "
                                        r"\(point \$LADABENCH_CACHE elsewhere, or set data.cache: "
                                        r"false to decode on access\)$"):
        build_uint8_dataset(_cfg(noise))
    assert not (entry / PARTIAL).exists()
    assert len(build_uint8_dataset(_cfg(noise).model_copy(update={"cache": False}))) == N


def test_a_cache_file_of_the_wrong_shape_is_refused(noise):
    entry = _entry(noise)
    build_uint8_dataset(_cfg(noise))
    np.save(entry / IMAGES, np.zeros((N, 3, 5, 5), np.uint8))
    with pytest.raises(DataError, match=rf"{entry}/{IMAGES}: holds uint8 \({N}, 3, 5, 5\), expected "
                                        rf"uint8 \({N}, 3, 4, 4\) \(delete the folder {entry}/"):
        build_uint8_dataset(_cfg(noise))


def _die_on_the_fifth(path: str) -> np.ndarray:
    if path.endswith("5"):
        os._exit(1)  # what the out-of-memory killer does to a decoding process
    return np.zeros((3, 2, 2), np.uint8)


def test_a_decoding_process_that_dies_stops_the_build_with_one_line(tmp_path):
    paths = [f"img{i}" for i in range(12)]
    entry = tmp_path / "entry"
    with pytest.raises(DataError, match=rf"^{entry}/: a decoding process died \([^\n]*\); what was "
                                        r"decoded is kept: run again to resume$"):
        decoded.open_decoded(entry, paths, _die_on_the_fifth, (3, 2, 2), meta={}, workers=2, chunk=2)
    assert (entry / PARTIAL).is_file() and not (entry / IMAGES).exists()
