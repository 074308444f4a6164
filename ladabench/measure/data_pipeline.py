"""What the data pipeline delivers (``ladabench bench --data``), in images per second, on a
folder of PNGs generated for the purpose (smooth colour fields plus noise, saved at Pillow's
default compression: about 120 kB at 256², like a photo thumbnail).

Measured in one process, one after the other: building the decoded cache (all available cores),
the training loader reading it (``ladabench.data.loader``, the loop's own loader: uint8 batches
in the seeded sampler's order, copied to the device and normalised there) with 0, 1, 2 …
workers, and the old path for the ratio: decoding every image on access in the main process
(``data.cache: false``, ``data.workers: 0``), the loader training used before the cache.
Rates are medians of repeated timings; the load average is recorded next to them, since a
shared machine changes absolute rates. CPU time per image does not depend on how many other
processes share the cores, so the build also reports the rate its CPU cost allows on idle cores.
"""
from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import PIL
import torch
from PIL import Image

from ladabench.config.data import DataConfig
from ladabench.core.cache import CACHE_ENV
from ladabench.data import build_dataset, build_uint8_dataset
from ladabench.data.decoded import available_cores
from ladabench.data.loader import device_batches, image_loader

#: PNG side and count of the generated folder, the resolution read, the batch (the goals' setting)
SIZE, IMAGES, RESOLUTION, BATCH = 256, 10_000, 64, 64
#: seconds each loader timing should last at least (several epochs of a small folder are fine)
LOADER_SECONDS = 2.0


def _png(task: tuple[Path, int, int]) -> int:
    """Write ``<index>.png``: a bicubic-smooth random colour field plus uniform noise of ±8
    (photo-like compressibility); returns the file's size."""
    folder, index, size = task
    rng = np.random.default_rng(index)
    field = Image.fromarray(rng.integers(0, 256, (4, 4, 3), np.uint8)).resize((size, size), Image.BICUBIC)
    noise = rng.integers(-8, 9, (size, size, 3), dtype=np.int16)
    pixels = np.clip(np.asarray(field, np.int16) + noise, 0, 255).astype(np.uint8)
    path = folder / f"{index:06d}.png"
    Image.fromarray(pixels).save(path)
    return path.stat().st_size


def write_png_folder(folder: Path, n: int, size: int = SIZE) -> int:
    """``n`` generated ``size``² PNGs in ``folder`` (written by all available cores); their mean
    size in bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [(folder, i, size) for i in range(n)]
    with ProcessPoolExecutor(available_cores()) as pool:
        sizes = list(pool.map(_png, tasks, chunksize=64))
    return int(np.mean(sizes))


@contextmanager
def private_cache(folder: Path) -> Iterator[None]:
    """``$LADABENCH_CACHE`` pointed at ``folder`` for the duration (the user's cache untouched)."""
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CACHE_ENV)
        else:
            os.environ[CACHE_ENV] = before


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished child processes (user + system)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def time_cache_build(cfg: DataConfig) -> tuple[float, float]:
    """Wall and CPU seconds (all decoding processes) to decode ``cfg``'s folder into a fresh
    cache (the caller gives a private cache)."""
    start, cpu = time.perf_counter(), _cpu_s()
    build_uint8_dataset(cfg)
    return time.perf_counter() - start, _cpu_s() - cpu


def time_loader(cfg: DataConfig, device: torch.device, batch: int, workers: int,
                min_seconds: float | None = None, warmup: int = 3) -> tuple[float, float]:
    """Images per second the training loader delivers on ``device`` (float, [-1, 1]) for
    ``cfg``, and the main process's CPU milliseconds per image (the whole cost when
    ``workers`` is 0): random batches like the training sampler's, timed after ``warmup``
    batches (worker start-up excluded), for at least ``min_seconds``."""
    dataset = build_dataset(cfg)
    sync = (lambda: torch.cuda.synchronize(device)) if device.type == "cuda" else (lambda: None)
    n = len(dataset)
    sampler = torch.utils.data.BatchSampler(
        torch.utils.data.RandomSampler(range(n), replacement=True, num_samples=1 << 40,
                                       generator=torch.Generator().manual_seed(0)),
        batch, drop_last=True)
    batches = device_batches(image_loader(dataset, sampler, device, workers=workers), device)
    for _ in range(warmup):
        next(batches)
    sync()
    start, cpu, count = time.perf_counter(), time.process_time(), 0
    while time.perf_counter() - start < (min_seconds or LOADER_SECONDS):
        next(batches)
        count += 1
    sync()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    batches.close()
    return count * batch / seconds, 1e3 * cpu / (count * batch)


def median_loader(repeats: int, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Medians of ``repeats`` :func:`time_loader` timings, with every run's rate."""
    runs = [time_loader(*args, **kwargs) for _ in range(repeats)]
    return {"img_per_s": statistics.median(r for r, _ in runs), "runs": [r for r, _ in runs],
            "main_cpu_ms_per_img": statistics.median(c for _, c in runs)}


def bench_data(*, images: int = IMAGES, size: int = SIZE, resolution: int = RESOLUTION,
               batch: int = BATCH, device: torch.device = torch.device("cpu"),
               workers: tuple[int, ...] | None = None, repeats: int = 3) -> dict[str, Any]:
    """The data-pipeline benchmark on ``images`` generated ``size``² PNGs read at ``resolution``:
    cache build img/s, loader img/s from the cache per worker count (default 0 … available
    cores), and the old path (decode on access, main process); medians of ``repeats``."""
    cores = available_cores()
    workers = tuple(range(cores + 1)) if workers is None else workers
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ladabench-bench-data-") as tmp:
        folder = Path(tmp) / "pngs"
        t0 = time.perf_counter()
        mean_bytes = write_png_folder(folder, images, size)
        generate_s = time.perf_counter() - t0
        cfg = DataConfig(name="folder", root=str(folder), resolution=resolution)
        with private_cache(Path(tmp) / "cache"):
            build_s, build_cpu_s = time_cache_build(cfg)
            cached = {str(w): median_loader(repeats, cfg, device, batch, w) for w in workers}
            old = median_loader(repeats, cfg.model_copy(update={"cache": False}), device, batch, 0)
    build_cpu_ms = 1e3 * build_cpu_s / images
    best = max(r["img_per_s"] for r in cached.values())
    return {
        "images": images, "png_size": size, "png_mean_bytes": mean_bytes, "resolution": resolution,
        "batch": batch, "device": str(device), "cores": cores, "threads": torch.get_num_threads(),
        "repeats": repeats, "generate_s": generate_s,
        "build": {"img_per_s": images / build_s, "seconds": build_s, "processes": cores,
                  "cpu_ms_per_img": build_cpu_ms,
                  # decoding is independent per image: ``cores`` idle cores give about this
                  "img_per_s_idle_estimate": cores * 1e3 / build_cpu_ms},
        "loader_cached": cached,
        "loader_old": {**old, "workers": 0, "cache": False},
        "speedup_loader": best / old["img_per_s"],
        "speedup_build": images / build_s / old["img_per_s"],
        "load_avg_before": load_before[0], "load_avg_after": os.getloadavg()[0],
        "cpu": platform.processor() or platform.machine(),
        "torch": torch.__version__, "pillow": PIL.__version__,
    }
