"""ladabench/data/folder.py: recursive png/jpg folders, resize, range, errors, aliases."""
import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.config import DataConfig
from ladabench.data import build_dataset
from ladabench.core.errors import ConfigError, DataError


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "imgs"
    _save(root / "b.png", np.full((10, 20, 3), (255, 0, 0), np.uint8))  # non-square, red
    _save(root / "a" / "x.jpg", np.full((8, 8, 3), 128, np.uint8))
    _save(root / "a" / "y.JPEG", np.full((64, 64, 3), (0, 0, 255), np.uint8))
    _save(root / "grey.png", np.full((5, 5), 255, np.uint8))  # mode "L"
    (root / "notes.txt").write_text("not an image")
    (root / "a" / "data.npy").write_bytes(b"\x93NUMPY")
    return root


def test_images_sorted_resized_and_scaled(folder):
    ds = build_dataset(DataConfig(name="folder", root=str(folder), resolution=16))
    assert [rel for rel, _ in ds.source.files] == ["a/x.jpg", "a/y.JPEG", "b.png", "grey.png"]
    for i in range(len(ds)):
        assert ds[i].shape == (3, 16, 16) and ds[i].dtype == torch.float32
        assert ds[i].min() >= -1 and ds[i].max() <= 1
    red = ds[2]
    assert torch.equal(red[0], torch.ones(16, 16)) and (red[1:] == -1).all()
    assert (ds[1][2] > 0.95).all() and (ds[1][:2] < -0.95).all()  # JPEG blue, lossy
    assert (ds[3] == 1).all()  # grey "L" image -> 3 equal channels


def test_resize_filter_is_used(tmp_path):
    rng = np.random.RandomState(0)
    _save(tmp_path / "n.png", rng.randint(0, 256, (12, 12, 3), dtype=np.uint8))
    sharp = build_dataset(DataConfig(name="folder", root=str(tmp_path), resolution=4))[0]
    cfg = DataConfig(name="folder", root=str(tmp_path), resolution=4, resize_filter="bicubic_antialias")
    smooth = build_dataset(cfg)[0]
    assert sharp.std() > smooth.std()  # antialias averages noise away; TF-style bilinear samples it


def test_empty_folder_names_folder_and_extensions(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=rf"{tmp_path}/ holds no images .*\.png, \.jpg, \.jpeg"):
        build_dataset(DataConfig(name="folder", root=str(tmp_path)))


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match=rf"{tmp_path}/nope/ does not exist"):
        build_dataset(DataConfig(name="folder", root=str(tmp_path / "nope")))


def test_folder_needs_root():
    with pytest.raises(ConfigError, match="data.root: data set 'folder' needs a folder"):
        build_dataset(DataConfig(name="folder"))


def test_alias_defaults_to_data_root_subfolder(folder, tmp_path, monkeypatch):
    monkeypatch.setenv("LADABENCH_DATA", str(tmp_path))
    with pytest.raises(DataError, match=rf"{tmp_path}/ffhq/ does not exist"):
        build_dataset(DataConfig(name="ffhq"))
    folder.rename(tmp_path / "celeba")
    assert len(build_dataset(DataConfig(name="celeba", resolution=8))) == 4
    assert len(build_dataset(DataConfig(name="lsun_bedroom", root=str(tmp_path / "celeba")))) == 4


def test_only_train_split(folder):
    with pytest.raises(ConfigError, match="data.split: data set 'folder' has split\\(s\\) train, got 'test'"):
        build_dataset(DataConfig(name="folder", root=str(folder), split="test"))


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"garbage")
    ds = build_dataset(DataConfig(name="folder", root=str(tmp_path)))
    with pytest.raises(DataError, match=rf"{tmp_path}/broken.png: cannot read image"):
        ds[0]
