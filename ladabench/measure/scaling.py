"""Attention scaling study: forward+backward time and peak memory of one attention layer and of
one full block (pre-LN attention + MLP, the discriminator block) as the token count N grows.

For every registered attention variant (no variant is named here except the default quadratic
``baseline`` and the study's options, both parameters), at fixed width C, heads h and batch B:
- ``time_ms``: the fastest of ``repeats`` timed forward+backward passes after ``warmup`` untimed
  ones (on a GPU: CUDA events around each pass, one synchronisation after all of them): other
  processes only ever add time, so the minimum is the estimator least disturbed on a shared
  machine; ``time_median_ms`` too.
- ``peak_memory_bytes``: CPU: the rise of the resident set's high-water mark (``VmHWM`` in
  /proc/self/status, reset through /proc/self/clear_refs) of a fresh worker process that builds
  the module and runs every pass: weights, activations, gradients and allocator slack
  included. GPU: ``torch.cuda.max_memory_allocated`` (torch tensors only) after a reset.
- ``macs``: the closed form of the attention layer (``TokenAttention.macs``), plus ``8·N·C²``
  per image for the block's MLP (C → 4C → C); norms are not matrix products (fvcore convention).
Layers whose parameters depend on N (Linformer's k = N/4 default, Swin's grid) are built per N.
A point whose memory or time, extrapolated from the two previous N of the same curve, exceeds
the budget is recorded with ``status = "skipped"`` and the reason, never dropped; so are all
larger N of that curve. Exponents and crossovers follow the one rule of
``ladabench.results.scaling`` (also used by the report).
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from ladabench.attention import build_attention, list_attentions
from ladabench.core.errors import ConfigError, first_line
from ladabench.core.io import write_json, write_text
from ladabench.models.blocks import DiscriminatorBlock
from ladabench.device import resolve_device
from ladabench.results.scaling import format_summary, summarize

TOKENS = (64, 256, 1024, 4096, 16384)  # square grids 8² … 128² (Swin needs a square grid)
SCOPES = ("layer", "block")
WARM_TOKENS = 64
MLP_RATIO = 4
#: the study's settings (like a suite's ``attention_options``): Swin 8×8 windows; Linformer
#: keeps its registry default k = N/4
OPTIONS: dict[str, dict[str, Any]] = {"swin": {"window": 8}}
#: width and batch when not given: one image of the paper's width on a CPU; on a GPU a batch and
#: width that keep it busy (at batch 1, width 64 a pass is kernel-launch overhead, whatever N)
SIZES = {"cpu": {"dim": 64, "batch": 1}, "cuda": {"dim": 256, "batch": 32}}
CPU_MEMORY_BUDGET = 3 * 2**30
#: share of the GPU's memory a point may be predicted to use (the rest: context, allocator)
GPU_MEMORY_SHARE = 0.8
COLUMNS = ["variant", "scope", "tokens", "dim", "heads", "batch", "macs", "time_ms", "time_median_ms",
           "peak_memory_bytes", "memory_method", "status", "reason", "device"]


def build_module(variant: str, scope: str, tokens: int, dim: int, heads: int, options: dict) -> nn.Module:
    """One attention layer (``scope="layer"``) or one D block (``"block"``) for ``tokens`` tokens."""
    opts = options.get(variant, {})
    if scope == "layer":
        return build_attention(variant, dim, heads, tokens, **opts)
    return DiscriminatorBlock(dim, heads, MLP_RATIO * dim, tokens, variant, opts)


def closed_form_macs(module: nn.Module, scope: str, batch: int, tokens: int, dim: int) -> int:
    attn = module if scope == "layer" else module.attn
    mlp = 0 if scope == "layer" else 2 * MLP_RATIO * batch * tokens * dim * dim
    return int(attn.macs(batch, tokens)) + mlp


def _vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _warm_runtime(spec: dict, device: torch.device) -> None:
    """One pass of the same variant and scope at ``WARM_TOKENS``, so that lazily loaded kernels
    and BLAS/autograd work buffers (≈35 MiB on CPU) are not charged to the measured point."""
    module = build_module(spec["variant"], spec["scope"], WARM_TOKENS, spec["dim"], spec["heads"],
                          spec["options"]).to(device)
    x = torch.randn(spec["batch"], WARM_TOKENS, spec["dim"], device=device, requires_grad=True)
    module(x).backward(torch.randn_like(x))


def measure(spec: dict) -> dict:
    """Build and time one point (runs in a fresh worker on CPU). Returns the measured fields."""
    device = torch.device(spec["device"])
    torch.set_num_threads(spec["threads"])
    cuda = device.type == "cuda"
    _warm_runtime(spec, device)
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
    else:
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
        base = _vm_kib("VmRSS") * 1024
    torch.manual_seed(0)
    module = build_module(spec["variant"], spec["scope"], spec["tokens"], spec["dim"], spec["heads"],
                          spec["options"]).to(device)
    x = torch.randn(spec["batch"], spec["tokens"], spec["dim"], device=device, requires_grad=True)
    grad = torch.randn_like(x)

    def one_pass() -> None:
        module.zero_grad(set_to_none=True)
        x.grad = None
        module(x).backward(grad)

    times = (_cuda_pass_times if cuda else _cpu_pass_times)(one_pass, spec["warmup"], spec["repeats"])
    peak = (torch.cuda.max_memory_allocated(device) if cuda else _vm_kib("VmHWM") * 1024) - base
    return {"macs": closed_form_macs(module, spec["scope"], spec["batch"], spec["tokens"], spec["dim"]),
            "time_ms": 1e3 * min(times), "time_median_ms": 1e3 * float(np.median(times)),
            "peak_memory_bytes": int(peak), "status": "ok", "reason": ""}


def _cpu_pass_times(one_pass: Callable[[], None], warmup: int, repeats: int) -> list[float]:
    """Seconds of each timed pass (wall clock around the pass)."""
    times = []
    for i in range(warmup + repeats):
        t0 = time.perf_counter()
        one_pass()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def _cuda_pass_times(one_pass: Callable[[], None], warmup: int, repeats: int) -> list[float]:
    """Seconds of each timed pass on the GPU's stream, from CUDA events recorded around it: the
    host queues every pass and synchronises once at the end, so no per-pass host round trip is
    charged to the pass."""
    for _ in range(warmup):
        one_pass()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
              for _ in range(repeats)]
    for start, end in events:
        start.record()
        one_pass()
        end.record()
    torch.cuda.synchronize()
    return [start.elapsed_time(end) / 1e3 for start, end in events]


def _worker(conn, spec: dict) -> None:
    try:
        conn.send(measure(spec))
    except (RuntimeError, MemoryError) as e:  # allocator failures: recorded, not fatal
        conn.send({"status": "failed", "reason": f"{type(e).__name__}: {first_line(e)}"})
    conn.close()


def _measure_cuda(spec: dict) -> dict:
    """``measure`` in-process; an out-of-memory point is skipped (its memory freed: the
    exception's frames hold the tensors until it is dropped) and the sweep goes on."""
    try:
        return measure(spec)
    except torch.OutOfMemoryError as e:
        reason = f"out of memory: {first_line(e)}"
    gc.collect()
    torch.cuda.empty_cache()
    return {"status": "skipped", "reason": reason}


def run_point(spec: dict, timeout_s: float) -> dict:
    """``measure`` in a fresh process on CPU (a clean high-water mark), in-process on GPU."""
    if spec["device"].startswith("cuda"):
        return _measure_cuda(spec)
    ctx = mp.get_context("forkserver")  # children never inherit a used OpenMP pool
    ctx.set_forkserver_preload([__name__])  # torch imported once, in the server
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(child, spec), daemon=True)
    proc.start()
    child.close()
    result = parent.recv() if parent.poll(timeout_s) else None
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if result is None:
        reason = (f"worker exit code {proc.exitcode}" if proc.exitcode
                  else f"no result within {timeout_s:.0f} s")
        return {"status": "failed", "reason": reason}
    return result


def _slope(a: dict, b: dict, key: str) -> float:
    """Log-log growth exponent of ``key`` between two points (≥ 1: never predict sublinear)."""
    ratio = max(b[key], 1) / max(a[key], 1)
    return max(math.log(ratio) / math.log(b["tokens"] / a["tokens"]), 1.0)


def _predicted_skip(done: list[dict], spec: dict, memory_budget: int, time_budget_s: float) -> str:
    """Reason to skip this point, extrapolating the two previous points of the curve ('' = run)."""
    if done and done[-1]["status"] != "ok":
        return f"a smaller N ({done[-1]['tokens']}) was {done[-1]['status']}"
    if len(done) < 2:
        return ""
    a, b = done[-2], done[-1]
    grow = spec["tokens"] / b["tokens"]
    mem = b["peak_memory_bytes"] * grow ** _slope(a, b, "peak_memory_bytes")
    secs = b["time_ms"] / 1e3 * grow ** _slope(a, b, "time_ms") * (spec["warmup"] + spec["repeats"])
    if mem > memory_budget:
        return f"predicted peak memory {mem / 2**30:.2f} GiB > budget {memory_budget / 2**30:.2f} GiB"
    if secs > time_budget_s:
        return f"predicted {secs:.0f} s > time budget {time_budget_s:.0f} s"
    return ""


def _describe(row: dict) -> str:
    head = f"{row['variant']:>12} {row['scope']:>5} N={row['tokens']:>6}: "
    if row["status"] != "ok":
        return head + f"{row['status']} ({row['reason']})"
    return head + f"{row['time_ms']:9.2f} ms {row['peak_memory_bytes'] / 2**20:8.1f} MiB"


def _run_curve(base: dict, tokens: tuple[int, ...], memory_budget: int, time_budget_s: float,
               log) -> list[dict]:
    """The points of one (variant, scope) curve, in increasing N."""
    cuda = base["device"].startswith("cuda")
    done: list[dict] = []
    for n in sorted(tokens):
        spec = {**base, "tokens": n}
        reason = _predicted_skip(done, spec, memory_budget, time_budget_s)
        if reason:
            res = {"status": "skipped", "reason": reason}
        else:
            res = run_point(spec, timeout_s=max(120.0, 4 * time_budget_s))
        row = {**{k: spec[k] for k in ("variant", "scope", "tokens", "dim", "heads", "batch")}, **res,
               "memory_method": "cuda max_memory_allocated" if cuda else "VmHWM rise"}
        done.append(row)
        log(_describe(row))
    return done


def run_scaling(
    out_dir: str | Path | None = None, variants: list[str] | None = None,
    tokens: tuple[int, ...] = TOKENS, dim: int | None = None, heads: int = 4,
    batch: int | None = None, device: str = "auto", repeats: int = 5, warmup: int = 2,
    threads: int = 1, scopes: tuple[str, ...] = SCOPES, options: dict[str, dict] | None = None,
    memory_budget_bytes: int | None = None, time_budget_s: float = 60.0, log=print,
) -> pd.DataFrame:
    """Run the sweep; one row per (variant, scope, N) in ``COLUMNS`` order.

    ``device`` (``auto``: CUDA when the job sees a GPU) sets what is not given: ``dim`` and
    ``batch`` (``SIZES``) and ``memory_budget_bytes`` (CPU: 3 GiB; GPU: ``GPU_MEMORY_SHARE`` of
    its memory). A GPU point that runs out of memory is recorded as skipped.

    CPU points run on ``threads`` intra-op threads (default 1: on a shared machine a second
    OpenMP thread that loses its core stalls every parallel region, measured 700 ms instead of
    1.4 ms for one pass, which swamps the N-dependence).

    Writes ``scaling.csv`` and ``scaling.json`` (rows, summary, settings, device) to ``out_dir``.
    """
    variants = list(variants or list_attentions())
    options = OPTIONS if options is None else options
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise ConfigError(f"scaling: unknown scope(s) {', '.join(bad)}; available: {', '.join(SCOPES)}")
    torch_device = resolve_device(device, "scaling.device")
    device, cuda = str(torch_device), torch_device.type == "cuda"
    sizes = SIZES["cuda" if cuda else "cpu"]
    dim, batch = dim or sizes["dim"], batch or sizes["batch"]
    memory_budget_bytes = memory_budget_bytes or _memory_budget(torch_device)
    dev_name = torch.cuda.get_device_name(torch_device) if cuda else f"cpu ({threads} thread(s))"
    settings = dict(dim=dim, heads=heads, batch=batch, device=device, repeats=repeats, warmup=warmup,
                    threads=threads, options=options)
    rows = []
    for variant in variants:
        for scope in scopes:
            base = {**settings, "variant": variant, "scope": scope}
            rows += _run_curve(base, tokens, memory_budget_bytes, time_budget_s, log)
    df = pd.DataFrame(rows).assign(device=dev_name).reindex(columns=COLUMNS)
    if out_dir is not None:
        write_outputs(df, Path(out_dir), settings={
            **settings, "device_name": dev_name, "memory_budget_bytes": memory_budget_bytes,
            "time_budget_s": time_budget_s, "torch": torch.__version__})
    return df


def _memory_budget(device: torch.device) -> int:
    if device.type != "cuda":
        return CPU_MEMORY_BUDGET
    return int(GPU_MEMORY_SHARE * torch.cuda.get_device_properties(device).total_memory)


def write_outputs(df: pd.DataFrame, out_dir: Path, settings: dict) -> None:
    """``scaling.csv`` (rows) and ``scaling.json`` (rows, summary, settings), atomically."""
    write_text(out_dir / "scaling.csv", df.to_csv(index=False))
    write_json(out_dir / "scaling.json", {
        "settings": settings, "summary": summarize(df),
        "rows": json.loads(df.to_json(orient="records")),
    })


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results/scaling", help="output folder (scaling.csv/json)")
    parser.add_argument("--variants", nargs="+", default=None, help="attention variants (default: all)")
    parser.add_argument("--tokens", nargs="+", type=int, default=list(TOKENS), help="token counts N")
    parser.add_argument("--dim", type=int, default=None, help="width C (default per device: SIZES)")
    parser.add_argument("--batch", type=int, default=None, help="batch B (default per device: SIZES)")
    parser.add_argument("--heads", type=int, default=4, help="heads h")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per point")
    parser.add_argument("--threads", type=int, default=1, help="CPU intra-op threads")
    parser.add_argument("--memory-budget-gib", type=float, default=None,
                        help="skip points predicted above (default: 3 on CPU, 80%% of a GPU)")
    parser.add_argument("--time-budget-s", type=float, default=60.0, help="skip points predicted slower")


def bench_scaling(args: argparse.Namespace) -> int:
    """CLI body shared by ``ladabench bench --scaling`` and ``python -m ladabench.measure.scaling``
    (arguments missing from ``args`` take the defaults of :func:`add_arguments`)."""
    defaults = argparse.ArgumentParser()
    add_arguments(defaults)
    opts = {**vars(defaults.parse_args([])), **{k: v for k, v in vars(args).items() if v is not None}}
    device = str(resolve_device(opts["device"], "--device"))
    budget = opts["memory_budget_gib"]
    df = run_scaling(opts["out"], opts["variants"], tuple(opts["tokens"]), opts["dim"], opts["heads"],
                     batch=opts["batch"], device=device, repeats=opts["repeats"],
                     threads=opts["threads"],
                     memory_budget_bytes=int(budget * 2**30) if budget is not None else None,
                     time_budget_s=opts["time_budget_s"])
    print(format_summary(summarize(df)))
    print(f"wrote {Path(opts['out']) / 'scaling.csv'} and scaling.json")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ladabench.measure.scaling",
                                     description=__doc__.split("\n")[0])
    add_arguments(parser)
    return bench_scaling(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
