"""Training and sampling throughput (as nanoGPT's ``bench.py``): warm-up steps,
then timed steps with ``synchronize()`` around each; the device name is stored with img/s.

The timed train step is exactly the training engine's (``ladabench.train.steps``): one D step
(R1 every step unless lazy R1 is asked for, DiffAugment ``color,translation``) then one G step
with the EMA update, on random "real" images (data loading is not measured). One step = one
batch of real images, so train img/s = batch / seconds per (D + G) iteration.

Next to the speed, the distance to the machine's limit: the step's matrix-product FLOPs (torch's
FLOP formulas for matmuls and convolutions, forward, backward and R1's double backward) divided
by the step time, as a share of a large matmul timed in the same process (fp32, or the faster of
fp32 and bf16 when the step autocasts to bf16 on a device with bf16 instructions); and the peak
memory of building the models and running the train steps (CPU: peak resident set size minus
the size before, the peak reset first; CUDA: peak allocated by torch).
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ladabench.config import RunConfig
from ladabench.train.distributed import SINGLE, DistContext, single_rank_group
from ladabench.train.provenance import device_name

if TYPE_CHECKING:
    from ladabench.config.train import TrainConfig
    from ladabench.train.setup import TrainSetup

#: side of the square matmul whose speed stands for the device's peak (per device type)
PEAK_MATMUL_SIZE = {"cpu": 2048, "cuda": 8192}


class MatmulFlops(TorchDispatchMode):
    """Sums the FLOPs of every matmul/convolution op run under it, with the formulas of
    ``torch.utils.flop_counter``. (``FlopCounterMode`` itself cannot be used: its per-module
    hooks fail on ``autograd.grad`` w.r.t. a leaf, which is how R1 is computed.)"""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.total += formula(*args, **kwargs, out_val=out)
        return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], Any], steps: int, device: torch.device) -> tuple[float, float]:
    """(wall, process CPU) seconds of one call of ``fn``, each the median of ``steps`` calls.

    The CPU time tells a loaded machine apart from a slow step: on a shared CPU the wall time
    grows with the load, the CPU time much less.
    """
    walls, cpus = [], []
    for _ in range(steps):
        _sync(device)
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def matmul_peak_flops(device: torch.device, dtype: torch.dtype = torch.float32,
                      rounds: int = 3) -> float:
    """FLOP/s of the fastest of ``rounds`` square matmuls (``PEAK_MATMUL_SIZE``) in ``dtype``:
    what this device reaches on the best case of the work a training step is made of."""
    n = PEAK_MATMUL_SIZE.get(device.type, 2048)
    a = torch.randn(n, n, device=device, dtype=dtype)
    a @ a  # warm-up (kernel selection, page faults)
    best, _ = min(_timed(lambda: a @ a, 1, device) for _ in range(rounds))
    return 2 * n**3 / best


@dataclass
class BenchStep:
    """The engine's train step and EMA G forward on a fixed random batch, ready to time."""

    setup: "TrainSetup"
    train_step: Callable[[], None]
    g_forward: Callable[[], None]
    #: one more train step (with or without R1) on the eager modules under ``MatmulFlops``;
    #: returns its FLOPs
    count_flops: Callable[[bool], int]


def bench_step(cfg: RunConfig, device: torch.device, dist: DistContext = SINGLE) -> BenchStep:
    """Build ``cfg``'s models as the trainer does (seed, init, optimisers, EMA) and return the
    step functions; R1 follows ``train.r1_interval`` counted from the first call. ``dist``:
    as that rank of a distributed run (the global batch stays ``train.batch_size``)."""
    from ladabench.train.setup import build_setup
    from ladabench.train.steps import Models, d_step, g_step

    t = cfg.train
    res = cfg.data.resolution
    fake_data = torch.utils.data.TensorDataset(torch.zeros(t.batch_size, 3, res, res))
    s = build_setup(cfg, device, dataset=fake_data, dist=dist)
    real = torch.rand(t.batch_size, 3, res, res, device=device) * 2 - 1  # (B, 3, R, R)
    if t.channels_last:
        real = real.contiguous(memory_format=torch.channels_last)
    z = torch.randn(t.batch_size, t.noise_dim, device=device)  # (B, Z)
    counter = iter(range(1 << 62))

    def train_step() -> None:
        do_r1 = t.r1_weight > 0 and next(counter) % t.r1_interval == 0
        s.d_step(real, do_r1=do_r1)
        s.g_step()

    @torch.no_grad()
    def g_forward() -> None:
        s.G_ema(z)

    def count_flops(do_r1: bool) -> int:
        eager = Models(s.G, s.D, s.opt_G, s.opt_D)  # compiled code would bypass the counter
        with MatmulFlops() as flops:
            d_step(eager, real, t, s.d_norms, do_r1=do_r1)
            g_step(eager, t.batch_size, t, s.g_norms, device)
        return flops.total

    return BenchStep(s, train_step, g_forward, count_flops)


def mean_step_flops(bench: BenchStep, t: "TrainConfig") -> float:
    """Matrix-product FLOPs of the average step: R1 steps weigh ``1 / r1_interval``."""
    if t.r1_weight == 0:
        return float(bench.count_flops(False))
    with_r1 = bench.count_flops(True)
    if t.r1_interval == 1:
        return float(with_r1)
    return (with_r1 + (t.r1_interval - 1) * bench.count_flops(False)) / t.r1_interval


def _fast_bf16(device: torch.device) -> bool:
    """bf16 matmuls can beat fp32 here (a GPU, or a CPU with AMX / AVX512-BF16)."""
    from ladabench.train.setup import cpu_bf16_support

    return device.type != "cpu" or cpu_bf16_support() is not None


def _proc_status_bytes(key: str) -> int:
    """A ``kB`` field of ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"/proc/self/status has no {key}")


def _reset_peak_rss() -> int | None:
    """Reset the process's peak RSS to its current RSS (Linux ``clear_refs`` 5) and return that
    RSS; None where the kernel does not allow it (then no CPU memory figure is reported)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _proc_status_bytes("VmRSS")
    except OSError:
        return None


def measure_throughput(
    cfg: RunConfig, device: torch.device, steps: int = 5, warmup: int = 2
) -> dict[str, Any]:
    """Train-step and G-forward images per second for ``cfg.model`` / ``cfg.train``, with the
    achieved matrix-product FLOP/s, its share of this device's matmul peak, and peak memory.

    Returns ``{"train_img_per_s", "g_forward_img_per_s", "s_per_step", "cpu_s_per_step",
    "train_gflop_per_step", "achieved_gflop_per_s", "matmul_peak_gflop_per_s", "peak_share",
    "peak_dtype", "peak_memory_bytes", "peak_memory_kind", "batch", "device", "device_name",
    "torch", "threads", "amp", "tf32", "r1_interval", "diffaug", "compile", "channels_last",
    "steps", "warmup", "preset", "g_attention", "d_attention"}``.
    """
    from ladabench.train.setup import check_device_options

    t = cfg.train
    check_device_options(t, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    rss_before = _reset_peak_rss()
    bench = bench_step(cfg, device)
    for _ in range(warmup):
        bench.train_step()
    step_s, step_cpu = _timed(bench.train_step, steps, device)
    if device.type == "cuda":
        memory, memory_kind = torch.cuda.max_memory_allocated(device), "cuda max allocated"
    elif rss_before is not None:
        memory, memory_kind = _proc_status_bytes("VmHWM") - rss_before, "cpu peak rss growth"
    else:
        memory, memory_kind = None, "unavailable (the kernel refused to reset the peak RSS)"
    for _ in range(warmup):
        bench.g_forward()
    g_s, _ = _timed(bench.g_forward, steps, device)
    flops = mean_step_flops(bench, t)
    dtypes = (torch.float32, torch.bfloat16) if t.amp == "bf16" and _fast_bf16(device) else (
        torch.float32,)
    peak, peak_dtype = max(((matmul_peak_flops(device, d), d) for d in dtypes), key=lambda p: p[0])
    return {
        "preset": cfg.model.preset, "g_attention": cfg.model.g_attention,
        "d_attention": cfg.model.d_attention,
        "train_img_per_s": t.batch_size / step_s, "g_forward_img_per_s": t.batch_size / g_s,
        "s_per_step": step_s, "cpu_s_per_step": step_cpu,
        "train_gflop_per_step": flops / 1e9, "achieved_gflop_per_s": flops / step_s / 1e9,
        "matmul_peak_gflop_per_s": peak / 1e9, "peak_share": flops / step_s / peak,
        "peak_dtype": str(peak_dtype).removeprefix("torch."),
        "peak_memory_bytes": memory, "peak_memory_kind": memory_kind,
        "batch": t.batch_size, "device": str(device),
        "device_name": device_name(device), "torch": torch.__version__,
        "threads": torch.get_num_threads(), "amp": t.amp, "tf32": t.tf32,
        "r1_interval": t.r1_interval, "diffaug": ",".join(t.diffaug), "compile": t.compile,
        "channels_last": t.channels_last, "steps": steps, "warmup": warmup,
    }


def measure_ddp_overhead(cfg: RunConfig, device: torch.device, steps: int = 20,
                         warmup: int = 2) -> dict[str, Any]:
    """What the distributed engine costs with nothing to share: the train step of a plain
    run and of the one rank of a world-size-1 process group (G and D in
    DistributedDataParallel with its gradient all-reduce, the per-step stop agreement on the
    CPU group), timed step by step in alternation in this process (a load that comes and goes
    on a shared machine hits both alike), ``steps`` each, medians.

    Returns ``{"plain_img_per_s", "distributed_img_per_s", "ratio" (distributed / plain img/s,
    wall clock), "cpu_ratio" (the same on process CPU time), "backend", "batch", "device",
    "device_name", "steps"}``.
    """
    t = cfg.train
    if device.type == "cuda" and device.index is None:  # NCCL wants the GPU's index
        device = torch.device("cuda", torch.cuda.current_device())
    plain = bench_step(cfg, device)
    with single_rank_group(device) as dist:
        ranked = bench_step(cfg, device, dist)

        def ranked_step() -> None:
            ranked.train_step()
            dist.max(0, 0)  # the trainer's stop and time-budget agreement after every step

        for _ in range(warmup):
            plain.train_step()
            ranked_step()
        times: dict[str, list[tuple[float, float]]] = {"plain": [], "ranked": []}
        for _ in range(steps):
            times["plain"].append(_timed(plain.train_step, 1, device))
            times["ranked"].append(_timed(ranked_step, 1, device))
    wall = {k: statistics.median(w for w, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}
    return {
        "plain_img_per_s": t.batch_size / wall["plain"],
        "distributed_img_per_s": t.batch_size / wall["ranked"],
        "ratio": wall["plain"] / wall["ranked"], "cpu_ratio": cpu["plain"] / cpu["ranked"],
        "backend": dist.backend, "batch": t.batch_size, "device": str(device),
        "device_name": device_name(device), "steps": steps,
    }
