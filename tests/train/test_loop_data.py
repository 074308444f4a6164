"""The training loop's loader on a folder data set: the decoded cache read by loader workers,
normalised after the copy, trains exactly the tensors that the old loader trained (decoding on
access in the main process), and a run interrupted and resumed with workers ends the same."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.config import RunConfig
from ladabench.core.cache import CACHE_ENV
from ladabench.train import run
from ladabench.train.checkpoint import load_checkpoint

from .tiny import tiny_overrides


@pytest.fixture
def photos(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    root = tmp_path / "photos"
    root.mkdir()
    rng = np.random.RandomState(0)
    for i in range(24):
        Image.fromarray(rng.randint(0, 256, (40, 48, 3), np.uint8)).save(root / f"{i:02d}.png")
    return root


def _cfg(root, **data) -> RunConfig:
    over = tiny_overrides(images=8 * 6, log_every_images=16, checkpoint_every_images=16,
                          sample_every_images=48)
    over["data"] = {"name": "folder", "root": str(root), "resolution": 32, **data}
    return RunConfig.model_validate(over)


def _same_models(a, b) -> None:
    a, b = load_checkpoint(a / "checkpoints/last.pt"), load_checkpoint(b / "checkpoints/last.pt")
    assert a["step"] == b["step"] == 6
    for key in ("G", "D", "G_ema"):
        for name, t in a[key].items():
            assert torch.equal(t, b[key][name]), f"{key}.{name}"


def test_cache_and_workers_train_the_tensors_of_decoding_in_the_main_process(photos, tmp_path):
    old = run(_cfg(photos, cache=False, workers=0), tmp_path / "old", quiet=True)
    new = run(_cfg(photos, workers=2), tmp_path / "new", quiet=True)
    assert old["status"] == new["status"] == "finished"
    assert old["config_hash"] == new["config_hash"]  # how data is read is not the experiment
    _same_models(tmp_path / "old", tmp_path / "new")

    calls = iter(range(1, 100))
    stopped = run(_cfg(photos, workers=2), tmp_path / "resumed", quiet=True,
                  should_stop=lambda: next(calls) == 3)
    assert stopped["status"] == "interrupted"
    assert run(_cfg(photos, workers=2), tmp_path / "resumed", quiet=True)["status"] == "finished"
    _same_models(tmp_path / "old", tmp_path / "resumed")
