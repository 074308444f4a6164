"""``cuda:N`` becomes the current CUDA device (no stray context on GPU 0) and N is checked
against the visible device count; torch.cuda is faked (no GPU needed)."""
from __future__ import annotations

import pytest
import torch

from ladabench.core.errors import ConfigError
from ladabench.device import resolve_device


@pytest.fixture
def two_gpus(monkeypatch) -> list:
    current: list = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", current.append)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3")
    return current


def test_cuda_index_becomes_the_current_device(two_gpus):
    assert resolve_device("cuda:1") == torch.device("cuda:1")
    assert two_gpus == [torch.device("cuda:1")]
    assert resolve_device("cuda") == torch.device("cuda") and len(two_gpus) == 1


def test_cuda_index_beyond_the_visible_devices_is_one_line(two_gpus):
    with pytest.raises(ConfigError, match=r"^scaling.device: 'cuda:2' requested but 2 CUDA "
                                          r"device\(s\) are visible \(CUDA_VISIBLE_DEVICES='2,3'\)$"):
        resolve_device("cuda:2", key="scaling.device")
    assert two_gpus == []
