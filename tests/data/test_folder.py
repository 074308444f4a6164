"""ladabench/data/folder.py: recursive png/jpg folders, resize, range, errors, aliases; the
decoded cache's key, its pixels against decoding on access, unreadable files."""
import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from ladabench.config import DataConfig
from ladabench.data import build_dataset, build_source, build_uint8_dataset
from ladabench.data.decoded import IMAGES, decoded_dir
from ladabench.data.folder import decode_image
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
    assert [f.rel for f in ds.source.files] == ["a/x.jpg", "a/y.JPEG", "b.png", "grey.png"]
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




def _photos(root, n=12, seed=0):
    """``n`` PNG/JPEG files of mixed sizes, modes and aspect ratios (smooth colours plus noise)."""
    rng = np.random.RandomState(seed)
    for i in range(n):
        h, w = rng.randint(20, 70, 2)
        base = np.asarray(Image.fromarray(rng.randint(0, 256, (3, 3, 3), np.uint8)).resize((w, h)))
        img = np.clip(base + rng.normal(0, 8, base.shape), 0, 255).astype(np.uint8)
        kind = i % 4
        path = root / f"{i:02d}.{'jpg' if kind == 1 else 'png'}"
        im = Image.fromarray(img)
        im = im.convert("L") if kind == 2 else im.convert("RGBA") if kind == 3 else im
        _save(path, np.asarray(im))
    return root


def _cache_name(root, **cfg):
    cfg = {"name": "folder", "root": str(root), "resolution": 16, **cfg}
    return build_source(DataConfig(**cfg)).cache_name()


def test_cache_key_follows_the_files_the_resolution_and_the_filter(tmp_path):
    root = _photos(tmp_path / "imgs")
    key = _cache_name(root)
    assert _cache_name(root) == key
    assert _cache_name(root, fraction=0.5, workers=3) == key  # same decoded pixels
    assert _cache_name(root, resolution=8) != key
    assert _cache_name(root, resize_filter="bicubic_antialias") != key
    moved = shutil.copytree(root, tmp_path / "elsewhere")  # copy2 keeps sizes and dates
    assert _cache_name(moved) == key

    path = root / "05.jpg"
    stat = os.stat(path)
    other = np.asarray(Image.open(root / "04.png").convert("RGB").resize((9, 9)))
    _save(path, other)  # new content
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert _cache_name(root) != key
    edited = _cache_name(root)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000))  # touched: maybe edited
    assert _cache_name(root) not in (key, edited)
    touched = _cache_name(root)
    _save(root / "new.png", other)
    assert _cache_name(root) not in (key, edited, touched)


@pytest.mark.parametrize("resolution, resize_filter", [(16, "bilinear"), (32, "bicubic_antialias"),
                                                       (64, "bilinear_antialias")])
def test_cached_pixels_equal_decoding_on_access_bit_for_bit(tmp_path, resolution, resize_filter):
    root = _photos(tmp_path / "imgs")
    cfg = DataConfig(name="folder", root=str(root), resolution=resolution, resize_filter=resize_filter)
    cached = build_uint8_dataset(cfg)
    direct = build_uint8_dataset(cfg.model_copy(update={"cache": False}))
    assert len(cached) == len(direct) == 12
    assert decoded_dir(cached.source.cache_name()).joinpath(IMAGES).is_file()
    assert direct.source._pixels is None  # decoding on access: nothing cached
    every = torch.arange(12)
    batch = cached.source.images(every)
    assert batch.shape == (12, 3, resolution, resolution) and batch.dtype == torch.uint8
    assert torch.equal(batch, direct.source.images(every))
    for i in range(12):
        path = str(root / cached.source.files[i].rel)
        assert torch.equal(cached[i], torch.from_numpy(decode_image(path, resolution, resize_filter)))
    assert torch.equal(build_dataset(cfg)[7], build_dataset(cfg.model_copy(update={"cache": False}))[7])


@pytest.mark.parametrize("cache", [True, False])
def test_an_unreadable_image_is_one_line_naming_the_file(tmp_path, cache):
    root = _photos(tmp_path / "imgs", n=8)
    (root / "03.png").write_bytes(b"garbage")
    (root / "06.png").write_bytes((root / "04.png").read_bytes()[:60])  # truncated
    cfg = DataConfig(name="folder", root=str(root), resolution=8, cache=cache)
    with pytest.raises(DataError) as err:
        build_dataset(cfg)[3]
    assert str(err.value).startswith(f"{root}/03.png: cannot read image (")
    assert "\n" not in str(err.value)
    (root / "03.png").unlink()
    with pytest.raises(DataError, match=rf"^{root}/06.png: cannot read image \([^\n]*\)$"):
        build_dataset(cfg)[5]
