"""Checkpoints: atomic writes, weights_only loading, RNG round trip."""
from __future__ import annotations

import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from ladabench.core.errors import DataError
from ladabench.train import checkpoint as ck
from ladabench.train.distributed import DistContext
from ladabench.train.draws import rank_seed
from ladabench.train.loop import Trainer


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


def _restored_draw(world_size: int, rank: int, saved_ranks: list[dict] | None, streams="own"):
    """What rank ``rank`` of ``world_size`` draws first after restoring a checkpoint taken at
    step 5 of seed 3 with per-rank states ``saved_ranks``."""
    resumed = SimpleNamespace(dist=DistContext(rank=rank, world_size=world_size), step=5,
                              t=SimpleNamespace(rank_streams=streams, seed=3), device=None)
    torch.manual_seed(0)
    main = ck.rng_state()
    Trainer.restore_rng(resumed, main, saved_ranks)
    return torch.rand(4)


def _first_draw(seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    return torch.rand(4)


def test_own_streams_resumed_at_another_world_size_are_seeded_by_rank_and_step():
    """Same world size: each rank continues its saved stream; another world size (2 → 3): rank r
    starts the stream of (seed, r, step), distinct per rank, the same on every rerun; one
    process continues the main stream."""
    saved = []
    for r in range(2):
        torch.manual_seed(100 + r)
        saved.append(ck.rng_state())
    for r in range(2):
        assert torch.equal(_restored_draw(2, r, saved), _first_draw(100 + r))
    grown = [_restored_draw(3, r, saved) for r in range(3)]
    for r in range(3):
        assert torch.equal(grown[r], _first_draw(rank_seed(3, r, 5)))
    assert not torch.equal(grown[0], grown[1]) and not torch.equal(grown[1], grown[2])
    assert torch.equal(_restored_draw(1, 0, saved), _first_draw(0))
    assert torch.equal(_restored_draw(2, 1, saved, streams="sliced"), _first_draw(0))


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


class FakeCuda:
    """torch.cuda's RNG functions for a machine with ``count`` GPUs (one state per device)."""

    def __init__(self, monkeypatch, count: int) -> None:
        self.states = {i: torch.full((16,), i, dtype=torch.uint8) for i in range(count)}
        self.set_calls: list[tuple[int, torch.Tensor]] = []
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
        monkeypatch.setattr(torch.cuda, "get_rng_state", self.get)
        monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: list(self.states.values()))
        monkeypatch.setattr(torch.cuda, "set_rng_state", self.set)
        monkeypatch.setattr(torch.cuda, "set_rng_state_all",
                            lambda states: [self.set(s, i) for i, s in enumerate(states)])

    def get(self, device="cuda") -> torch.Tensor:
        return self.states[torch.device(device).index or 0].clone()

    def set(self, state, device="cuda") -> None:
        index = torch.device(device).index if not isinstance(device, int) else device
        self.states[index or 0]  # IndexError-like for a device that does not exist
        self.set_calls.append((index or 0, state))


def test_a_cuda_run_keeps_its_own_device_stream_and_resumes_on_fewer_gpus(tmp_path, monkeypatch):
    FakeCuda(monkeypatch, count=2)
    ck.save_checkpoint(tmp_path / "c.pt", {"step": 1}, device=torch.device("cuda:1"))
    saved = ck.load_checkpoint(tmp_path / "c.pt")["rng"]
    assert torch.equal(saved["cuda"], torch.full((16,), 1, dtype=torch.uint8))  # cuda:1's only
    requeued = FakeCuda(monkeypatch, count=1)  # the requeued task sees its GPU as cuda:0
    ck.set_rng_state(saved, torch.device("cuda:0"))
    assert [(i, s.tolist()) for i, s in requeued.set_calls] == [(0, [1] * 16)]

