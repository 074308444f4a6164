"""Inception weights: local copies are found, and with the network unreachable and no copy the
user gets one error naming the file, where to put it and the fetch command (never another
extractor)."""
from __future__ import annotations

import socket

import pytest
import torch

from ladabench.core.errors import DataError
from ladabench.metrics import evaluate
from ladabench.metrics.cache import CACHE_ENV
from ladabench.metrics.extractors import get_extractor
from ladabench.metrics.inception import INCEPTION_FILE, find_inception_weights


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Empty torch-hub and ladabench caches, and every connection attempt fails."""

    def unreachable(*args, **kwargs):
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    monkeypatch.setattr(socket, "create_connection", unreachable)
    monkeypatch.setattr(socket.socket, "connect", unreachable)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "lb"))
    return tmp_path


def expected_message(root) -> str:
    return (
        "Inception weights for FID/KID not found: expected weights-inception-2015-12-05-6726825d.pth "
        "(torch-fidelity 'inception-v3-compat', TF Inception 2015-12-05, name hash 6726825d; "
        "its sha256 is recorded with every metric) at "
        f"{root}/torch/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth or "
        f"{root}/lb/weights-inception-2015-12-05-6726825d.pth, and downloading "
        "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth "
        "failed (URLError: [Errno 101] Network is unreachable). Run `ladabench fetch --inception` on a "
        "machine with internet and copy the file to one of those places ($LADABENCH_CACHE or $TORCH_HOME "
        "choose them), or pass --inception-weights PATH (eval.inception_weights)."
    )


def test_offline_without_weights_is_one_clear_error(offline):
    with pytest.raises(DataError) as err:
        find_inception_weights(None)
    assert str(err.value) == expected_message(offline)
    assert "\n" not in str(err.value)
    assert not list(offline.rglob("*.pth*")) and not list(offline.rglob(".*.tmp"))


def test_evaluate_offline_raises_instead_of_falling_back(offline, make_cfg, generators):
    cfg = make_cfg(extractor="inception-v3-compat")
    with pytest.raises(DataError, match="Inception weights for FID/KID not found") as err:
        evaluate(generators[1](), cfg, n_gen=10, n_real=10, device="cpu")
    assert str(err.value) == expected_message(offline)


def test_local_copies_are_found_in_order(offline):
    lb = offline / "lb" / INCEPTION_FILE
    lb.parent.mkdir(parents=True)
    lb.write_bytes(b"weights")
    assert find_inception_weights(None) == lb
    hub = offline / "torch" / "hub" / "checkpoints" / INCEPTION_FILE
    hub.parent.mkdir(parents=True)
    hub.write_bytes(b"weights")
    assert find_inception_weights(None) == hub  # torch-fidelity's own cache first
    explicit = offline / "mine.pth"
    explicit.write_bytes(b"w")
    assert find_inception_weights(explicit) == explicit


def test_missing_explicit_file_names_the_key(offline):
    with pytest.raises(DataError) as err:
        find_inception_weights(offline / "nope.pth")
    assert str(err.value) == (
        f"eval.inception_weights: {offline}/nope.pth: file not found; expected the torch-fidelity "
        f"Inception weights {INCEPTION_FILE} (get it with `ladabench fetch --inception`)"
    )


@pytest.mark.parametrize("content, reason", [
    (b"PK\x03\x04 truncated download", "not a torch weights file (RuntimeError: "),
    (None, "not a torch weights file (a list, not a state dict of tensors)"),
])
def test_a_weights_file_that_does_not_load_is_one_clear_error(offline, make_cfg, content, reason):
    """Found or given, the file must load as a state dict (torch-fidelity would fail only at the
    run's first evaluation, with a traceback)."""
    bad = offline / "bad.pth"
    if content is None:
        torch.save([torch.ones(2)], bad)
    else:
        bad.write_bytes(content)
    ext = get_extractor("inception-v3-compat")
    with pytest.raises(DataError) as err:
        ext.weights(make_cfg(extractor="inception-v3-compat", inception_weights=str(bad)).eval)
    assert str(err.value).startswith(f"eval.inception_weights: {bad}: {reason}")
    assert "\n" not in str(err.value)
    good = offline / "good.pth"
    torch.save({"Conv2d_1a_3x3.conv.weight": torch.ones(2)}, good)
    assert ext.weights(make_cfg(extractor="inception-v3-compat", inception_weights=str(good)).eval) == good
