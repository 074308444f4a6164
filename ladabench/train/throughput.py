"""Training and sampling throughput (as nanoGPT's ``bench.py``): warm-up steps,
then timed steps with ``synchronize()`` around the clock; the device name is stored with img/s.

The timed train step is exactly the training engine's (``ladabench.train.steps``): one D step
(R1 every step unless lazy R1 is asked for, DiffAugment ``color,translation``) then one G step
with the EMA update, on random "real" images (data loading is not measured). One step = one
batch of real images, so train img/s = batch / seconds per (D + G) iteration.
"""
from __future__ import annotations

import time
from typing import Any

import torch

from ladabench.config import RunConfig
from ladabench.train.provenance import device_name


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn, steps: int, warmup: int, device: torch.device) -> tuple[float, float]:
    """(wall, process CPU) seconds per call of ``fn``, means over ``steps`` after ``warmup``.

    The CPU time tells a loaded machine apart from a slow step: on a shared CPU the wall time
    grows with the load, the CPU time much less.
    """
    for _ in range(warmup):
        fn()
    _sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        fn()
    _sync(device)
    return (time.perf_counter() - start) / steps, (time.process_time() - cpu) / steps


def measure_throughput(
    cfg: RunConfig, device: torch.device, steps: int = 5, warmup: int = 2
) -> dict[str, Any]:
    """Train-step and G-forward images per second for ``cfg.model`` / ``cfg.train``.

    Returns ``{"train_img_per_s", "g_forward_img_per_s", "s_per_step", "cpu_s_per_step",
    "batch", "device", "device_name", "torch", "threads", "amp", "r1_interval", "diffaug",
    "compile", "channels_last", "steps", "warmup", "preset", "g_attention", "d_attention"}``.
    """
    from ladabench.train.setup import build_setup, check_device_options

    t = cfg.train
    check_device_options(t, device)
    res = cfg.data.resolution
    fake_data = torch.utils.data.TensorDataset(torch.zeros(t.batch_size, 3, res, res))
    s = build_setup(cfg, device, dataset=fake_data)
    real = torch.rand(t.batch_size, 3, res, res, device=device) * 2 - 1
    if t.channels_last:
        real = real.contiguous(memory_format=torch.channels_last)
    counter = iter(range(1 << 62))

    def train_step() -> None:
        do_r1 = t.r1_weight > 0 and next(counter) % t.r1_interval == 0
        s.d_step(real, do_r1=do_r1)
        s.g_step()

    z = torch.randn(t.batch_size, t.noise_dim, device=device)

    @torch.no_grad()
    def g_forward() -> None:
        s.G_ema(z)

    step_s, step_cpu = _timed(train_step, steps, warmup, device)
    g_s, _ = _timed(g_forward, steps, warmup, device)
    return {
        "preset": cfg.model.preset, "g_attention": cfg.model.g_attention,
        "d_attention": cfg.model.d_attention,
        "train_img_per_s": t.batch_size / step_s, "g_forward_img_per_s": t.batch_size / g_s,
        "s_per_step": step_s, "cpu_s_per_step": step_cpu, "batch": t.batch_size, "device": str(device),
        "device_name": device_name(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "amp": t.amp, "r1_interval": t.r1_interval,
        "diffaug": t.diffaug, "compile": t.compile, "channels_last": t.channels_last,
        "steps": steps, "warmup": warmup,
    }
