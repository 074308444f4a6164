import json

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
