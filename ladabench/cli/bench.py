"""``ladabench bench --preset cifar10_32``: train-step and G-forward throughput (img/s) on
this machine, printed with the device name, the achieved matrix-product GFLOP/s against a matmul
timed in the same command, and peak memory. ``--scaling`` runs the sequence-length scaling
study of ``ladabench.measure.scaling`` instead; ``--data`` the data-pipeline benchmark of
``ladabench.measure.data_pipeline``; ``--ddp-overhead`` the train step of a plain run against
that of a world-size-1 distributed run (``ladabench.train.throughput.measure_ddp_overhead``)."""
from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

    from ladabench.config import RunConfig

NAME = "bench"
HELP = ("throughput: train-step img/s (G+D, R1 every step, DiffAugment color,translation) and "
        "G-forward img/s; --scaling: attention cost vs sequence length")


#: timed sizes when not given: on a GPU batch 32 and 5 steps time kernel launches, not the step
SIZES = {"cpu": {"batch": 32, "steps": 5, "warmup": 2},
         "cuda": {"batch": 128, "steps": 30, "warmup": 5}}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="cifar10_32", help="architecture preset")
    parser.add_argument("--attention", default="lada", help="attention variant for G and D")
    parser.add_argument("--batch", type=int, default=None,
                        help="batch size (default 32 on a CPU, 128 on a GPU)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps after the warm-up (default 5 on a CPU, 30 on a GPU)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed warm-up steps (default 2 on a CPU, 5 on a GPU)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, ...")
    parser.add_argument("--amp", choices=("off", "bf16"), default="off",
                        help="bf16 autocast (a departure from the paper's fp32; on a CPU it needs "
                             "AMX or AVX512-BF16 to be fast)")
    parser.add_argument("--tf32", action="store_true",
                        help="TensorFloat-32 matmuls/convolutions (CUDA; departure)")
    parser.add_argument("--r1-interval", type=int, default=1,
                        help="lazy R1 every k D steps (departure; paper: 1)")
    parser.add_argument("--compile", action="store_true",
                        help="torch.compile G, and D except in R1 steps (departure)")
    parser.add_argument("--channels-last", action="store_true", help="NHWC layout (departure)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU intra-op threads (default: torch's; on a shared machine 1 "
                             "avoids OpenMP stalls when another process holds a core)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scaling", action="store_true",
                        help="run the attention scaling sweep instead (default settings, writes "
                             "results/scaling; all options: python -m ladabench.measure.scaling -h)")
    parser.add_argument("--data", action="store_true",
                        help="data-pipeline throughput instead: decode generated PNGs into the "
                             "cache, then read it with the training loader (img/s)")
    parser.add_argument("--ddp-overhead", action="store_true",
                        help="train-step img/s of a plain run and of a world-size-1 distributed "
                             "run (DDP, gloo on a CPU, NCCL on CUDA), timed step by step in "
                             "alternation; prints their ratio")
    data = parser.add_argument_group("--data options")
    data.add_argument("--data-images", type=_positive, default=10_000, help="PNGs (default 10000)")
    data.add_argument("--data-size", type=_positive, default=256, help="PNG side (default 256)")
    data.add_argument("--data-resolution", type=_positive, default=64,
                      help="resolution read (default 64)")
    data.add_argument("--data-batch", type=_positive, default=64, help="loader batch (default 64)")
    data.add_argument("--data-workers", type=int, nargs="+", default=None,
                      help="loader worker counts to time (default 0 … available cores)")
    data.add_argument("--data-repeats", type=_positive, default=3,
                      help="timings per setting, the median is reported (default 3)")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _sized(args: argparse.Namespace, device_type: str) -> argparse.Namespace:
    """``args`` with the sizes not given on the command line taken from ``SIZES``."""
    sizes = SIZES["cuda" if device_type == "cuda" else "cpu"]
    return argparse.Namespace(**{**vars(args), **{key: value for key, value in sizes.items()
                                                  if getattr(args, key) is None}})


def _config(args: argparse.Namespace):
    from ladabench.config import RunConfig
    from ladabench.models import get_preset
    from ladabench.core.schema import parse_model

    res = get_preset(args.preset).img_size
    return parse_model(RunConfig, {
        "model": {"preset": args.preset, "g_attention": args.attention, "d_attention": args.attention},
        "data": {"resolution": res},
        "train": {"batch_size": args.batch, "amp": args.amp, "tf32": args.tf32,
                  "r1_interval": args.r1_interval, "compile": args.compile,
                  "channels_last": args.channels_last, "device": args.device},
    }, "ladabench bench")


def run(args: argparse.Namespace) -> int:
    if args.scaling:
        from ladabench.measure.scaling import bench_scaling

        # only --device is shared; the sweep's own options: python -m ladabench.measure.scaling -h
        return bench_scaling(argparse.Namespace(device=args.device))
    if args.data:
        return _bench_data(args)
    import torch

    from ladabench.train.throughput import measure_throughput
    from ladabench.device import resolve_device

    device = resolve_device(args.device, "--device")
    args = _sized(args, device.type)
    cfg = _config(args)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.ddp_overhead:
        return _bench_ddp(cfg, device, args)
    result = measure_throughput(cfg, device, args.steps, args.warmup)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    print_result(result, args.attention)
    return 0


def _bench_ddp(cfg: RunConfig, device: torch.device, args: argparse.Namespace) -> int:
    from ladabench.train.throughput import measure_ddp_overhead

    r = measure_ddp_overhead(cfg, device, args.steps, args.warmup)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"train step, {args.preset} {args.attention}, batch {r['batch']} on {r['device_name']}"
          f", {r['steps']} steps each, alternating (medians):")
    print(f"  plain run                     {r['plain_img_per_s']:10.1f} img/s")
    print(f"  world size 1, {r['backend']:5s} + DDP     {r['distributed_img_per_s']:10.1f} img/s")
    print(f"  ratio (distributed / plain)   {r['ratio']:10.3f}   "
          f"(on CPU time: {r['cpu_ratio']:.3f})")
    return 0


def _bench_data(args: argparse.Namespace) -> int:
    from ladabench.device import resolve_device
    from ladabench.measure.data_pipeline import bench_data

    if args.data_workers is not None and min(args.data_workers) < 0:
        from ladabench.core.errors import ConfigError

        raise ConfigError(f"--data-workers: expected counts >= 0, got {args.data_workers}")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    r = bench_data(images=args.data_images, size=args.data_size, resolution=args.data_resolution,
                   batch=args.data_batch, device=resolve_device(args.device, "--device"),
                   workers=None if args.data_workers is None else tuple(args.data_workers),
                   repeats=args.data_repeats)
    if args.json:
        print(json.dumps(r, sort_keys=True))
        return 0
    print(f"data pipeline on {r['device']} ({r['cpu']}, {r['cores']} cores, {r['threads']} torch "
          f"threads, load average "
          f"{r['load_avg_before']:.1f} -> {r['load_avg_after']:.1f}; torch {r['torch']}, "
          f"Pillow {r['pillow']})")
    print(f"  {r['images']} generated {r['png_size']}x{r['png_size']} PNGs "
          f"(mean {r['png_mean_bytes'] / 1e3:.0f} kB), read at {r['resolution']}x{r['resolution']}, "
          f"batch {r['batch']}, median of {r['repeats']}")
    b = r["build"]
    print(f"  cache build ({b['processes']} processes): {b['img_per_s']:.0f} img/s "
          f"({b['seconds']:.1f} s; {b['cpu_ms_per_img']:.2f} ms CPU per image, so about "
          f"{b['img_per_s_idle_estimate']:.0f} img/s on {r['cores']} idle cores)")
    for workers, res in r["loader_cached"].items():
        print(f"  loader from the cache, {workers} workers: {res['img_per_s']:.0f} img/s "
              f"({res['main_cpu_ms_per_img']:.3f} ms main-process CPU per image)")
    old = r["loader_old"]
    print(f"  old path (decode on access, main process): {old['img_per_s']:.0f} img/s "
          f"({old['main_cpu_ms_per_img']:.2f} ms CPU per image)")
    print(f"  ratios to the old path: loader x{r['speedup_loader']:.0f}, cache build "
          f"x{r['speedup_build']:.1f}")
    return 0


def print_result(r: dict, attention: str) -> None:
    """The human-readable form of one ``measure_throughput`` result."""
    options = ", ".join(f"{k} {r[k]}" for k in ("amp", "tf32", "compile", "channels_last"))
    print(f"{r['preset']} / {attention} on {r['device_name']} "
          f"(batch {r['batch']}, {options}, torch {r['torch']})")
    print(f"  train step (D + G, R1 every {r['r1_interval']}, DiffAugment {r['diffaug']}): "
          f"{r['train_img_per_s']:.1f} img/s (median {r['s_per_step']:.2f} s/step of "
          f"{r['steps']}, {r['cpu_s_per_step']:.2f} s process CPU time)")
    print(f"  achieved {r['achieved_gflop_per_s']:.1f} GFLOP/s "
          f"({r['train_gflop_per_step']:.1f} GFLOP of matmuls/convolutions per step) = "
          f"{r['peak_share']:.0%} of the best matmul timed now ({r['peak_dtype']}, "
          f"{r['matmul_peak_gflop_per_s']:.1f} GFLOP/s)")
    memory = r["peak_memory_bytes"]
    print(f"  peak memory: {'-' if memory is None else f'{memory / 2**20:.0f} MiB'} "
          f"({r['peak_memory_kind']})")
    print(f"  G forward (EMA, no grad): {r['g_forward_img_per_s']:.1f} img/s")
