"""Checkpoints: atomic writes, weights_only loading, RNG round trip."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from ladabench.core.errors import DataError
from ladabench.train import checkpoint as ck


def test_rng_states_round_trip_through_a_weights_only_checkpoint(tmp_path):
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    ck.save_checkpoint(tmp_path / "c.pt", {"step": 7})
    expected = (random.random(), np.random.rand(), torch.rand(3))
    random.seed(9), np.random.seed(9), torch.manual_seed(9)
    loaded = ck.load_checkpoint(tmp_path / "c.pt")  # weights_only=True inside
    ck.set_rng_state(loaded["rng"])
    assert loaded["step"] == 7
    got = (random.random(), np.random.rand(), torch.rand(3))
    assert got[0] == expected[0] and got[1] == expected[1] and torch.equal(got[2], expected[2])


def test_a_crash_during_save_leaves_the_old_checkpoint_readable(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ck.save_checkpoint(path, {"w": torch.ones(3), "step": 1})
    real_save = torch.save

    def crash(obj, f, *a, **kw):
        real_save(obj, f, *a, **kw)
        f.truncate(10)  # half a file on disk, then the process "dies"
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        ck.save_checkpoint(path, {"w": torch.zeros(3), "step": 2})
    monkeypatch.undo()
    loaded = ck.load_checkpoint(path)
    assert loaded["step"] == 1 and torch.equal(loaded["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left


def test_unsafe_or_corrupt_files_are_one_line_data_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    torch.save({"f": object}, bad)  # a pickled class: refused by weights_only
    with pytest.raises(DataError, match="bad.pt: unreadable checkpoint"):
        ck.load_checkpoint(bad)
    with pytest.raises(DataError, match="checkpoint not found"):
        ck.load_checkpoint(tmp_path / "none.pt")
