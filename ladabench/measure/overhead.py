"""Benchmark: the time ``evaluate`` adds over a bare ``torch_fidelity.calculate_metrics`` call
on the same images (the promise: FID/KID time is the extractor's, overhead ≤ 5 %).

Both sides get the same generator (a fixed random linear map, so that sampling is cheap and
identical), the same real images and the same extractor; ladabench's side starts from an empty
cache (it computes the real features too, plus its data fingerprint and weights hash), the bare
side runs with ``cache=False``. The Inception file (for that extractor) must exist already. Runs alternate and the fastest of each side is compared.

    python -m ladabench.measure.overhead [--n-gen 10000] [--extractor digits-cnn] [--repeats 2]
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
import torch_fidelity
from torch import nn

from ladabench.config import RunConfig
from ladabench.metrics import fidelity_adapters
from ladabench.metrics.cache import fidelity_cache_dir
from ladabench.metrics.evaluation import EvalContext, evaluate
from ladabench.metrics.fidelity import UInt8Images, fidelity_kwargs


class LinearGenerator(nn.Module):
    """z (B, Z) → tanh(z Wᵀ) as (B, 3, R, R): sampling costs next to nothing."""

    def __init__(self, noise_dim: int, resolution: int) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(0)
        self.shape = (3, resolution, resolution)
        self.weight = nn.Parameter(torch.randn(3 * resolution**2, noise_dim, generator=gen) * 0.5)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z @ self.weight.T).view(-1, *self.shape)


def bare_call(generator: nn.Module, ctx: EvalContext, n_gen: int) -> tuple[float, dict]:
    """(seconds, result) of torch-fidelity alone on the images ``ctx`` would use (its result keys
    renamed as ``evaluate``'s)."""
    real = ctx.real.images  # prepared outside the clock: it is ladabench's part
    kwargs = fidelity_kwargs(ctx.extractor, ctx.weights, metrics={"fid", "kid"}, n_gen=n_gen,
                             n_real=ctx.real.n, batch_size=ctx.cfg.eval.batch_size, cuda=False)
    wrapped = torch_fidelity.GenerativeModelModuleWrapper(
        UInt8Images(generator), ctx.cfg.train.noise_dim, "normal", 0)
    t0 = time.perf_counter()
    res = fidelity_adapters.calculate_metrics(input1=wrapped, input1_model_num_samples=n_gen,
                                              input2=real, cache=False, **kwargs)
    return time.perf_counter() - t0, res


def ladabench_call(generator: nn.Module, ctx: EvalContext, n_gen: int) -> tuple[float, float, dict]:
    """(seconds, seconds inside torch-fidelity, result) of ``evaluate``, with the real set's
    cache entries removed first (so both sides extract the real features)."""
    for path in fidelity_cache_dir().glob(f"{ctx.real.cache_name}-*"):
        path.unlink()
    inside = []
    library_call = torch_fidelity.calculate_metrics

    def timed(**kwargs):
        t = time.perf_counter()
        try:
            return library_call(**kwargs)
        finally:
            inside.append(time.perf_counter() - t)

    torch_fidelity.calculate_metrics = timed
    try:
        t0 = time.perf_counter()
        res = evaluate(generator, ctx.cfg, n_gen=n_gen, n_real=ctx.n_real, device="cpu", metrics=["fid", "kid"])
        return time.perf_counter() - t0, sum(inside), res
    finally:
        torch_fidelity.calculate_metrics = library_call


def measure_overhead(cfg: RunConfig, n_gen: int, n_real: int, repeats: int = 2) -> dict:
    """Alternating bare / ladabench runs.

    ``overhead_in_run``: time ``evaluate`` spends outside ``calculate_metrics`` relative to the
    time inside it, within the same run (immune to load changes between runs);
    ``overhead_fastest``: fastest ladabench run / fastest bare run - 1 (noisy on shared machines).
    """
    generator = LinearGenerator(cfg.train.noise_dim, cfg.data.resolution)
    ctx = EvalContext(generator, cfg, n_gen, n_real, torch.device("cpu"), ["fid", "kid"])
    bare, ours, outside = [], [], []
    for _ in range(repeats):
        t_bare, res_bare = bare_call(generator, ctx, n_gen)
        t_ours, t_inside, res_ours = ladabench_call(generator, ctx, n_gen)
        bare.append(t_bare)
        ours.append(t_ours)
        outside.append((t_ours - t_inside) / t_inside)
    if res_ours["fid"]["value"] != res_bare["fid"] or res_ours["kid"]["value"] != res_bare["kid"]:
        raise RuntimeError(f"the two paths disagree: {res_ours} vs {res_bare}")  # not the same images
    return {"extractor": ctx.extractor.name, "n_gen": n_gen, "n_real": ctx.real.n, "bare_s": bare,
            "ladabench_s": ours, "overhead_in_run": min(outside),
            "overhead_fastest": min(ours) / min(bare) - 1, "fid": res_bare["fid"],
            "threads": torch.get_num_threads()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ladabench.measure.overhead",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--n-gen", type=int, default=10_000)
    parser.add_argument("--n-real", type=int, default=10_000, help="capped at the split size")
    parser.add_argument("--extractor", default="digits-cnn")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    cfg = RunConfig.model_validate({"data": {"name": args.dataset}, "eval": {"extractor": args.extractor}})
    r = measure_overhead(cfg, args.n_gen, args.n_real, args.repeats)
    print(f"{r['extractor']}: {r['n_gen']} generated vs {r['n_real']} real, {r['threads']} thread(s)")
    print(f"  bare torch-fidelity: {', '.join(f'{t:.2f}' for t in r['bare_s'])} s")
    print(f"  ladabench evaluate:  {', '.join(f'{t:.2f}' for t in r['ladabench_s'])} s")
    print(f"  overhead outside torch-fidelity, same run: {100 * r['overhead_in_run']:+.2f} %")
    print(f"  overhead fastest vs fastest: {100 * r['overhead_fastest']:+.1f} %  (FID {r['fid']:.4f} on both)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
