"""ladabench/data/cifar10.py: a tiny CIFAR-10 in the real on-disk format, offline errors, download."""
import hashlib
import pickle
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torchvision.datasets import CIFAR10

from ladabench.config import DataConfig
from ladabench.data import build_dataset, dataset_fingerprint, download_cifar10
from ladabench.core.errors import DataError

N_PER_BATCH = 2
N_TEST = 3


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def _write_batch(path, data, labels):
    with open(path, "wb") as f:
        pickle.dump({"batch_label": path.name, "labels": labels, "data": data, "filenames": []}, f)


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    """root with cifar-10-batches-py/ (5 x 2 train images, 3 test images); torchvision's md5 list
    is pointed at these files so its integrity check really runs."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.RandomState(0)
    data = {}
    for i in range(1, 6):
        data[f"data_batch_{i}"] = rng.randint(0, 256, (N_PER_BATCH, 3072), dtype=np.uint8)
    data["test_batch"] = rng.randint(0, 256, (N_TEST, 3072), dtype=np.uint8)
    for name, arr in data.items():
        _write_batch(folder / name, arr, [int(v) for v in rng.randint(0, 10, len(arr))])
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": 2}, f)
    train = [[f"data_batch_{i}", _md5(folder / f"data_batch_{i}")] for i in range(1, 6)]
    monkeypatch.setattr(CIFAR10, "train_list", train)
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", _md5(folder / "test_batch")]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": _md5(folder / "batches.meta")})
    return tmp_path, data


def test_tiny_cifar_loads_through_torchvision(tiny_cifar):
    root, data = tiny_cifar
    ds = build_dataset(DataConfig(name="cifar10", root=str(root)))
    assert len(ds) == 5 * N_PER_BATCH
    # CIFAR rows are 1024 R, then 1024 G, then 1024 B values, each row-major 32 x 32
    expected = torch.from_numpy(data["data_batch_2"][1].reshape(3, 32, 32)).float() / 127.5 - 1
    assert ds[3].shape == (3, 32, 32) and torch.allclose(ds[3], expected)
    test = build_dataset(DataConfig(name="cifar10", root=str(root), split="test"))
    assert len(test) == N_TEST
    first_test = torch.from_numpy(data["test_batch"][0].reshape(3, 32, 32)).float() / 127.5 - 1
    assert torch.allclose(test[0], first_test)
    assert torch.equal(torch.stack(ds.__getitems__([3, 9])), torch.stack([ds[3], ds[9]]))
    small = build_dataset(DataConfig(name="cifar10", root=str(root), resolution=16))
    assert small[0].shape == (3, 16, 16) and small[0].min() >= -1 and small[0].max() <= 1


def test_fingerprint_follows_file_bytes(tiny_cifar, tmp_path):
    root, data = tiny_cifar
    cfg = DataConfig(name="cifar10", root=str(root))
    fp = dataset_fingerprint(cfg)
    assert fp == dataset_fingerprint(cfg)
    assert fp != dataset_fingerprint(DataConfig(name="cifar10", root=str(root), split="test"))
    changed = data["data_batch_5"].copy()
    changed[0, 0] ^= 1
    _write_batch(root / "cifar-10-batches-py" / "data_batch_5", changed, [0] * N_PER_BATCH)
    assert dataset_fingerprint(cfg) != fp


def test_corrupted_files_are_a_data_error(tiny_cifar):
    root, _ = tiny_cifar
    (root / "cifar-10-batches-py" / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match=r"corrupted.*ladabench fetch --dataset cifar10"):
        build_dataset(DataConfig(name="cifar10", root=str(root), resolution=8))


def test_offline_without_files_says_where_and_how(tmp_path):
    with pytest.raises(DataError) as err:
        build_dataset(DataConfig(name="cifar10", root=str(tmp_path)))
    msg = str(err.value)
    assert "\n" not in msg
    assert f"{tmp_path}/cifar-10-batches-py/" in msg
    assert "data_batch_1" in msg and "test_batch" in msg and "batches.meta" in msg
    assert "ladabench fetch --dataset cifar10" in msg
    assert "data.download: true" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in msg


def test_default_root_comes_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("LADABENCH_DATA", str(tmp_path / "store"))
    with pytest.raises(DataError, match=f"{tmp_path}/store/cifar-10-batches-py/"):
        build_dataset(DataConfig(name="cifar10"))


def test_download_failure_is_a_data_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise URLError("no network")

    monkeypatch.setattr("torchvision.datasets.cifar.download_and_extract_archive", offline)
    with pytest.raises(DataError, match=r"could not download CIFAR-10 from https://.*no network"):
        download_cifar10(tmp_path)
    with pytest.raises(DataError, match="could not download"):
        build_dataset(DataConfig(name="cifar10", root=str(tmp_path), download=True))


def test_download_is_a_no_op_when_files_are_there(tiny_cifar, monkeypatch):
    root, _ = tiny_cifar

    def fail(*args, **kwargs):
        raise AssertionError("must not download")

    monkeypatch.setattr("torchvision.datasets.cifar.download_and_extract_archive", fail)
    assert download_cifar10(root) == root / "cifar-10-batches-py"
    assert len(build_dataset(DataConfig(name="cifar10", root=str(root), download=True, resolution=4))) == 10
