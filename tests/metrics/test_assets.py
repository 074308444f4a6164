"""``ladabench fetch`` library: checksummed placement, verification of existing copies, errors
(file:// URLs and a patched data set downloader: nothing touches the network)."""
from __future__ import annotations

import hashlib
import socket

import pytest

from ladabench.core.errors import DataError, RegistryError
from ladabench.metrics import assets, inception
from ladabench.core.download import sidecar_path


@pytest.fixture
def fake_release(tmp_path, monkeypatch):
    src = tmp_path / "release" / inception.INCEPTION_FILE
    src.parent.mkdir()
    src.write_bytes(b"not really inception" * 1000)
    monkeypatch.setattr(inception, "INCEPTION_URL", src.as_uri())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return src, hashlib.sha256(src.read_bytes()).hexdigest()


def test_fetch_inception_into_torch_hub(fake_release, tmp_path):
    src, digest = fake_release
    records = assets.fetch_assets(True, [], log=lambda s: None)
    hub = tmp_path / "torch" / "hub" / "checkpoints" / inception.INCEPTION_FILE
    assert records == [{"asset": "inception", "path": str(hub), "sha256": digest}]
    assert hub.read_bytes() == src.read_bytes()
    assert sidecar_path(hub).read_text().startswith(digest)
    assert inception.find_inception_weights(None, download=False) == hub  # where eval looks


def test_existing_copy_is_verified_not_refetched(fake_release, tmp_path):
    src, digest = fake_release
    dest = tmp_path / "dest"
    assets.fetch_inception(dest)
    src.unlink()  # a second fetch must not need the source
    assert assets.fetch_inception(dest) == (dest / inception.INCEPTION_FILE, digest)
    (dest / inception.INCEPTION_FILE).write_bytes(b"truncated")
    with pytest.raises(DataError, match=r"sha256 .* != expected .*; delete it and fetch again"):
        assets.fetch_inception(dest)


def test_expected_sha256_is_enforced(fake_release, tmp_path):
    with pytest.raises(DataError, match="checksum mismatch"):
        assets.fetch_inception(tmp_path / "d", expected_sha256="0" * 64)
    assert not (tmp_path / "d" / inception.INCEPTION_FILE).exists()


def test_network_failure_is_a_data_error(tmp_path, monkeypatch):
    def unreachable(*args, **kwargs):
        raise OSError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(socket, "getaddrinfo", unreachable)
    with pytest.raises(DataError) as err:
        assets.fetch_inception(tmp_path)
    assert str(err.value) == (
        f"could not download {inception.INCEPTION_URL} to {tmp_path / inception.INCEPTION_FILE}: "
        "[Errno 101] Network is unreachable"
    )


def test_datasets_go_through_their_downloader(tmp_path, monkeypatch):
    from ladabench.data import cifar10

    calls = []
    monkeypatch.setattr(cifar10, "download_cifar10", lambda root: calls.append(root) or root / "cifar-10-batches-py")
    records = assets.fetch_assets(False, ["cifar10"], tmp_path, log=lambda s: None)
    assert calls == [tmp_path]
    assert records == [{"asset": "cifar10", "path": str(tmp_path / "cifar-10-batches-py"), "sha256": None}]


def test_unknown_dataset_fails_before_downloading(fake_release, tmp_path):
    with pytest.raises(RegistryError, match="unknown downloadable data set 'cifar100'"):
        assets.fetch_assets(True, ["cifar100"], tmp_path / "d")
    assert not (tmp_path / "d").exists()
