"""Images from a trained EMA generator (``ladabench generate``), and image files read back.

The noise is ``RandomState(seed).randn(n, noise_dim)``, the draw the metrics make with their
seed (torch-fidelity's 2020, the default here): the images written with the default seed and
the run's ``eval.batch_size`` are, pixel for pixel, the ones ``ladabench eval`` of the
checkpoint scores (PNG is lossless). Output: a folder of ``000000.png``, … or one ``.npz`` whose
``arr_0`` is uint8 ``(n, R, R, 3)`` (the layout other GAN evaluation code reads).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from tqdm import tqdm

from ladabench.core.errors import ConfigError, DataError
from ladabench.core.io import atomic_open
from ladabench.metrics.fidelity import NOISE_SEED, to_uint8
from ladabench.train.trained import TrainedGenerator

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
NPZ_KEY = "arr_0"


@torch.no_grad()
def sample_uint8(trained: TrainedGenerator, n: int, seed: int = NOISE_SEED,
                 batch_size: int | None = None, progress: bool = False) -> torch.Tensor:
    """``n`` images uint8 ``(n, 3, R, R)`` on the CPU, in batches of ``batch_size`` (default
    the run's ``eval.batch_size``)."""
    if n <= 0:
        raise ConfigError(f"expected a positive number of images, got {n}", key="--n")
    batch = batch_size or trained.cfg.eval.batch_size
    rng = np.random.RandomState(seed)
    device = next(trained.generator.parameters()).device
    noise_dim = trained.cfg.train.noise_dim
    out = []
    with tqdm(total=n, unit="img", disable=not progress, dynamic_ncols=True) as bar:
        for start in range(0, n, batch):
            z = torch.from_numpy(rng.randn(min(batch, n - start), noise_dim)).float()
            out.append(to_uint8(trained.generator(z.to(device))).cpu())
            bar.update(len(z))
    return torch.cat(out)


def write_images(images: torch.Tensor, out: Path) -> Path:
    """Write uint8 ``(n, 3, R, R)`` images as ``out/NNNNNN.png`` or, for ``*.npz``, one array."""
    hwc = images.permute(0, 2, 3, 1).numpy()
    if out.suffix == ".npz":
        out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(out, "wb") as f:
            np.savez(f, **{NPZ_KEY: hwc})
        return out
    out.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(hwc):
        with atomic_open(out / f"{i:06d}.png", "wb") as f:
            Image.fromarray(image).save(f, format="PNG")
    return out


def _read_npz(path: Path) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz[NPZ_KEY] if NPZ_KEY in npz.files else npz[npz.files[0]]
    except (OSError, ValueError, IndexError) as e:
        raise DataError(f"{path}: not an image array file ({type(e).__name__}: {e})") from None


def _read_folder(folder: Path) -> np.ndarray:
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DataError(f"{folder}: no .png/.jpg/.jpeg images in this folder")
    arrays = []
    for path in files:
        try:
            with Image.open(path) as im:
                arrays.append(np.asarray(im.convert("RGB")))
        except (OSError, UnidentifiedImageError) as e:
            raise DataError(f"{path}: unreadable image ({type(e).__name__})") from None
        if arrays[-1].shape != arrays[0].shape:
            raise DataError(f"{path}: size {arrays[-1].shape[:2]} differs from "
                            f"{files[0].name}'s {arrays[0].shape[:2]}; expected one size")
    return np.stack(arrays)


def read_images(path: str | Path, resolution: int) -> torch.Tensor:
    """uint8 ``(n, 3, R, R)`` from a folder of image files (sorted by path) or an ``.npz``
    (``arr_0``, ``(n, R, R, 3)``); images are never resized (that would change the metric)."""
    path = Path(path)
    hwc = _read_npz(path) if path.suffix == ".npz" else _read_folder(path)
    if hwc.dtype != np.uint8 or hwc.ndim != 4 or hwc.shape[1:] != (resolution, resolution, 3):
        raise DataError(f"{path}: expected uint8 images of {resolution}x{resolution}x3 (the "
                        f"run's data.resolution), got {hwc.dtype} {hwc.shape}")
    return torch.from_numpy(np.ascontiguousarray(hwc)).permute(0, 3, 1, 2).contiguous()
