"""Fixed-z sample grids and attention-map plots of the EMA generator (run-dir contract).

``samples/grid_<images_seen:012d>.png``: the ``n_samples`` fixed latents as one grid.
``samples/real.png``: as many training images, evenly spaced over the data set, as one grid
(what the generated grids are judged against).
``samples/attn_<images_seen:012d>.png``: for the first ``n_attn_samples`` latents, one row per
sample: the generated image, then every head of every stage as a G×G map (normalised to [0, 1]
per map, nearest-upsampled to the image size).
``samples/attn_<images_seen:012d>.npz``: the raw maps ``stage<i>: (B, h, N)`` and ``images``.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.utils import make_grid

from ladabench.core.io import atomic_open


def to_uint8(img: torch.Tensor) -> np.ndarray:
    """(B, 3, R, R) in [-1, 1] -> (B, R, R, 3) uint8, clipped like the reference's PNG export."""
    x = ((img.detach().float().cpu() + 1) * 127.5).round().clamp_(0, 255)
    return x.to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _save_png(path: Path, array: np.ndarray) -> None:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    with atomic_open(path, "wb") as f:
        f.write(buf.getvalue())


def save_grid(path: Path, images: torch.Tensor) -> None:
    """images: (B, 3, R, R) in [-1, 1] -> one PNG grid of ceil(sqrt(B)) columns."""
    u8 = torch.from_numpy(to_uint8(images)).permute(0, 3, 1, 2)  # (B, 3, R, R)
    grid = make_grid(u8, nrow=math.ceil(math.sqrt(len(u8))), padding=2)  # (3, H, W)
    _save_png(path, grid.permute(1, 2, 0).numpy())


def attention_panel(images: torch.Tensor, maps: list[torch.Tensor]) -> np.ndarray:
    """Rows = samples; columns = the image, then each head of each stage.

    Args:
        images: (B, 3, R, R) in [-1, 1].
        maps: per stage (B, h, N) with N = G² tokens.
    Returns: (B·R, (1 + Σh)·R, 3) uint8.
    """
    B, _, R, _ = images.shape
    cols = [torch.from_numpy(to_uint8(images)).float() / 255]  # (B, R, R, 3)
    for m in maps:
        side = math.isqrt(m.shape[-1])
        a = m.detach().float().cpu().reshape(B * m.shape[1], 1, side, side)
        lo = a.amin(dim=(2, 3), keepdim=True)
        hi = a.amax(dim=(2, 3), keepdim=True)
        a = (a - lo) / (hi - lo).clamp_min(1e-12)
        a = F.interpolate(a, size=(R, R), mode="nearest").reshape(B, m.shape[1], R, R)
        cols.extend(a[:, j, :, :, None].expand(B, R, R, 3) for j in range(m.shape[1]))
    panel = torch.cat(cols, dim=2)  # (B, R, W, 3)
    return (panel.reshape(B * R, -1, 3) * 255).round().to(torch.uint8).numpy()


def save_attention(stem: Path, images: torch.Tensor, maps: list[torch.Tensor]) -> None:
    """Write ``<stem>.png`` (see :func:`attention_panel`) and ``<stem>.npz`` (raw maps)."""
    _save_png(stem.with_suffix(".png"), attention_panel(images, maps))
    arrays = {f"stage{i}": m.detach().float().cpu().numpy() for i, m in enumerate(maps)}
    arrays["images"] = to_uint8(images)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with atomic_open(stem.with_suffix(".npz"), "wb") as f:
        f.write(buf.getvalue())


@torch.no_grad()
def write_samples(
    ema: torch.nn.Module, z: torch.Tensor, n_attn: int, folder: Path, images_seen: int
) -> list[str]:
    """Render the fixed latents ``z: (n, noise_dim)`` with the EMA generator; return file names."""
    tag = f"{images_seen:012d}"
    images = ema(z)
    save_grid(folder / f"grid_{tag}.png", images)
    files = [f"grid_{tag}.png"]
    if n_attn:
        imgs, maps = ema(z[:n_attn], return_attn=True)
        save_attention(folder / f"attn_{tag}", imgs, maps)
        files += [f"attn_{tag}.png", f"attn_{tag}.npz"]
    return files


def write_real_grid(dataset: torch.utils.data.Dataset, n: int, folder: Path) -> str | None:
    """``samples/real.png`` (once per run): ``n`` images spread evenly over ``dataset``, so a
    class-sorted data set shows every class. Returns the file name, None when it exists."""
    path = folder / "real.png"
    if path.exists():
        return None
    picks = torch.linspace(0, len(dataset) - 1, min(n, len(dataset))).round().long()
    save_grid(path, torch.stack([dataset[int(i)] for i in picks]))
    return path.name
