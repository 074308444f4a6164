"""Checked downloads (file:// URLs: urllib treats them like http, no network involved)."""
from __future__ import annotations

import hashlib

import pytest

from ladabench.core.errors import DataError
from ladabench.core.download import download_file, sidecar_path


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "src" / "blob.bin"
    src.parent.mkdir()
    src.write_bytes(b"x" * 3_000_000)  # > one chunk
    return src, hashlib.sha256(src.read_bytes()).hexdigest()


def test_download_verifies_and_places_the_file(source, tmp_path):
    src, digest = source
    dest = tmp_path / "out" / "blob.bin"
    assert download_file(src.as_uri(), dest, sha256=digest) == digest
    assert dest.read_bytes() == src.read_bytes()
    assert sidecar_path(dest).read_text() == f"{digest}  blob.bin\n"


def test_hash_prefix_is_enough(source, tmp_path):
    src, digest = source
    assert download_file(src.as_uri(), tmp_path / "b.bin", hash_prefix=digest[:8]) == digest


def test_checksum_mismatch_leaves_nothing(source, tmp_path):
    src, digest = source
    out = tmp_path / "out"
    with pytest.raises(DataError) as err:
        download_file(src.as_uri(), out / "blob.bin", sha256="0" * 64)
    assert str(err.value) == (
        f"checksum mismatch for {src.as_uri()}: expected sha256 {'0' * 64}..., got {digest}; "
        f"{out / 'blob.bin'} was not written"
    )
    assert list(out.iterdir()) == []  # neither the file, its sidecar nor a temp file


def test_existing_file_survives_a_failed_download(source, tmp_path):
    src, _ = source
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    with pytest.raises(DataError):
        download_file(src.as_uri(), dest, sha256="1" * 64)
    assert dest.read_bytes() == b"old"
