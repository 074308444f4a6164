"""ladabench/measure/data_pipeline.py: the generated PNG folder, the benchmark's private cache,
and one small end-to-end measurement."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from ladabench.core.cache import CACHE_ENV
from ladabench.measure import data_pipeline
from ladabench.measure.data_pipeline import bench_data, private_cache, write_png_folder


def test_generated_pngs_are_distinct_and_compress_like_photos(tmp_path):
    mean = write_png_folder(tmp_path, 6, size=64)
    files = sorted(tmp_path.iterdir())
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(6)]
    pixels = [np.asarray(Image.open(f)) for f in files]
    assert all(p.shape == (64, 64, 3) and p.dtype == np.uint8 for p in pixels)
    assert not np.array_equal(pixels[0], pixels[1])
    assert mean == int(np.mean([f.stat().st_size for f in files]))
    assert 0.3 * 64 * 64 * 3 < mean < 0.9 * 64 * 64 * 3  # neither flat colour nor pure noise


def test_the_private_cache_is_undone(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, "mine")
    with private_cache(tmp_path):
        assert os.environ[CACHE_ENV] == str(tmp_path)
    assert os.environ[CACHE_ENV] == "mine"
    monkeypatch.delenv(CACHE_ENV)
    with pytest.raises(RuntimeError), private_cache(tmp_path):
        raise RuntimeError
    assert CACHE_ENV not in os.environ


def test_a_small_benchmark_measures_every_setting_without_touching_the_users_cache(
        tmp_path, monkeypatch, one_torch_thread):
    users = tmp_path / "users_cache"
    users.mkdir()
    monkeypatch.setenv(CACHE_ENV, str(users))
    monkeypatch.setattr(data_pipeline, "LOADER_SECONDS", 0.2)
    r = bench_data(images=24, size=32, resolution=16, batch=4, workers=(0, 1), repeats=2)
    assert list(users.iterdir()) == [] and os.environ[CACHE_ENV] == str(users)
    assert r["images"] == 24 and r["resolution"] == 16 and r["batch"] == 4 and r["threads"] == 1
    assert sorted(r["loader_cached"]) == ["0", "1"]
    assert all(len(v["runs"]) == 2 and v["img_per_s"] > 0 for v in r["loader_cached"].values())
    b = r["build"]
    assert b["img_per_s"] == 24 / b["seconds"] and b["cpu_ms_per_img"] > 0
    assert b["img_per_s_idle_estimate"] == r["cores"] * 1e3 / b["cpu_ms_per_img"]
    assert r["loader_old"]["main_cpu_ms_per_img"] > r["loader_cached"]["0"]["main_cpu_ms_per_img"]
    best = max(v["img_per_s"] for v in r["loader_cached"].values())
    assert r["speedup_loader"] == best / r["loader_old"]["img_per_s"]
