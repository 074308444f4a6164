"""ladabench's training step against the official LadaGAN PyTorch port, side by side.

    python benchmarks/peer.py --official PATH/TO/LadaGAN/pytorch [--batch 32] [--steps 7]

``PATH`` is a checkout of the official ``pytorch/`` folder (``model.py`` and ``diffaug.py``;
they need ``einops``, a dev extra). Its modules are loaded from there at run time for this
measurement only; nothing of it is part of the ladabench package.

Both sides build ``cifar10_32`` (the official ``Generator(32, [1024, 256, 64], 128, [4, 4, 4],
[512, 512, 512])`` and ``Discriminator([128, 256], [512, 1024], 4, 512)``); the parameter counts
must agree. The official train step is the loop body of its ``train.py``: D step (DiffAugment
of the reals, which require grad, D on reals and on detached fakes, R1 on the reals every step,
logistic loss, mean per-tensor gradient norm, Adam), then G step (fresh z, DiffAugment, D frozen,
non-saturating loss, gradient norm, Adam, EMA update parameter by parameter), then the ``.item()``
reads of its logged metrics. ladabench's step is its engine's (``ladabench.train.throughput``).
Same batch, same paper defaults (fp32, R1 every step, DiffAugment color,translation; R1 weights
differ, 0.01 vs 1e-4, which changes no cost). The two steps alternate in this one process (the
order flips every round so that neither always runs first), after warm-up, and each side's
median is taken; likewise the no-grad forward of each EMA generator. A benchmark, not a test: it
exits 0 whatever the ratio, 1 when the models do not match, 2 on bad input.
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Callable

import torch
import torch.nn.functional as F

PRESET = "cifar10_32"
OFFICIAL_G = dict(img_size=32, dim=[1024, 256, 64], noise_dim=128, heads=[4, 4, 4],
                  mlp_dim=[512, 512, 512])
OFFICIAL_D = dict(enc_dim=[128, 256], out_dim=[512, 1024], heads=4, mlp_dim=512)
#: official pytorch/config.py values that enter the step
OFFICIAL_CONF = dict(lr=2e-4, betas=(0.5, 0.99), r1_gamma=0.01, policy="color,translation",
                     ema_decay=0.999)


class BadInput(Exception):
    """A missing folder, file or dependency (exit 2)."""


class NotTheSameModel(Exception):
    """The parameter counts differ (exit 1)."""


def load_official(folder: Path) -> tuple[ModuleType, ModuleType]:
    """The official ``model`` and ``diffaug`` modules, loaded from ``folder`` under private names."""
    modules = []
    for name in ("model", "diffaug"):
        path = folder / f"{name}.py"
        if not path.is_file():
            raise BadInput(f"--official {folder}: no {name}.py (expected the official pytorch/ folder)")
        spec = importlib.util.spec_from_file_location(f"ladagan_official_{name}", path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except ModuleNotFoundError as e:
            raise BadInput(f"--official {path}: needs {e.name!r} (pip install -e '.[dev]')") from None
        modules.append(module)
    return modules[0], modules[1]


def _set_requires_grad(model: torch.nn.Module, flag: bool) -> None:
    for p in model.parameters():
        p.requires_grad = flag


class OfficialStep:
    """The loop body of the official ``pytorch/train.py`` on a fixed real batch."""

    def __init__(self, model: ModuleType, diffaug: ModuleType, batch: int, real: torch.Tensor):
        self.G, self.D = model.Generator(**OFFICIAL_G), model.Discriminator(**OFFICIAL_D)
        for m in (self.G, self.D):
            self._orthogonal_init(m)
        self.ema = copy.deepcopy(self.G).eval()
        _set_requires_grad(self.ema, False)
        c = OFFICIAL_CONF
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=c["lr"], betas=c["betas"])
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=c["lr"], betas=c["betas"])
        self.augment = lambda x: diffaug.DiffAugment(x, policy=c["policy"])
        self.batch, self.real = batch, real
        self.z = torch.randn(batch, OFFICIAL_G["noise_dim"])

    @staticmethod
    def _orthogonal_init(model: torch.nn.Module) -> None:
        """Its ``utils.weights_init``: orthogonal kernels of every Conv and Linear."""
        for m in model.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
                torch.nn.init.orthogonal_(m.weight.data)

    def _r1(self, logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        (grad,) = torch.autograd.grad(logits.sum(), images, create_graph=True)
        return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()

    def train_step(self) -> None:
        G, D, c, noise = self.G, self.D, OFFICIAL_CONF, OFFICIAL_G["noise_dim"]
        real = self.augment(self.real.clone().requires_grad_(True))
        _set_requires_grad(G, False)
        _set_requires_grad(D, True)
        real_out = D(real)
        fake = self.augment(G(torch.randn(self.batch, noise)).detach())
        fake_out = D(fake)
        penalty = c["r1_gamma"] * self._r1(real_out, real)
        d_loss = F.softplus(-real_out).mean() + F.softplus(fake_out).mean() + penalty
        D.zero_grad()
        d_loss.backward()
        d_norm = torch.mean(torch.stack([torch.norm(p.grad) for p in D.parameters()]))
        self.opt_D.step()

        _set_requires_grad(G, True)
        _set_requires_grad(D, False)
        fake_out = D(self.augment(G(torch.randn(self.batch, noise))))
        g_loss = F.softplus(-fake_out).mean()
        G.zero_grad()
        g_loss.backward()
        g_norm = torch.mean(torch.stack([torch.norm(p.grad) for p in G.parameters()]))
        self.opt_G.step()
        with torch.no_grad():
            ema = dict(self.ema.named_parameters())
            for name, p in G.named_parameters():
                ema[name].mul_(c["ema_decay"]).add_(p.data, alpha=1 - c["ema_decay"])
        for value in (g_loss, d_loss, d_norm, g_norm, fake_out.mean(), real_out.mean()):
            value.item()

    @torch.no_grad()
    def g_forward(self) -> None:
        self.ema(self.z)


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def alternate(a: Callable[[], None], b: Callable[[], None], rounds: int,
              warmup: int) -> dict[str, tuple[list[float], list[float]]]:
    """Wall and process-CPU seconds per call of ``a`` and ``b``, called alternately (order
    flipped every round): ``{"wall": (a_times, b_times), "cpu": (a_times, b_times)}``. On a
    shared machine the CPU time is the steadier of the two (it does not count waiting for a core)."""
    times = {"wall": ([], []), "cpu": ([], [])}
    for i in range(warmup + rounds):
        order = ((0, a), (1, b)) if i % 2 == 0 else ((1, b), (0, a))
        for side, fn in order:
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            if i >= warmup:
                times["wall"][side].append(time.perf_counter() - wall)
                times["cpu"][side].append(time.process_time() - cpu)
    return times


def ladabench_step(batch: int):
    from ladabench.config import RunConfig
    from ladabench.train.throughput import bench_step
    from ladabench.models import get_preset
    from ladabench.core.schema import parse_model

    res = get_preset(PRESET).img_size
    cfg = parse_model(RunConfig, {
        "model": {"preset": PRESET}, "data": {"resolution": res},
        "train": {"batch_size": batch, "device": "cpu"},
    }, "benchmarks/peer.py")
    return bench_step(cfg, torch.device("cpu"))


def measure(args: argparse.Namespace) -> dict:
    from ladabench.train.provenance import device_name, git_info

    model, diffaug = load_official(Path(args.official))
    torch.manual_seed(0)
    real = torch.rand(args.batch, 3, 32, 32) * 2 - 1  # (B, 3, 32, 32)
    official = OfficialStep(model, diffaug, args.batch, real)
    ours = ladabench_step(args.batch)
    params = {"official": {"G": count(official.G), "D": count(official.D)},
              "ladabench": {"G": count(ours.setup.G), "D": count(ours.setup.D)}}
    if params["official"] != params["ladabench"]:
        raise NotTheSameModel(f"parameter counts (G, D) differ: {params}")
    load_before = os.getloadavg()
    train = alternate(official.train_step, ours.train_step, args.steps, args.warmup)
    g_fwd = alternate(official.g_forward, ours.g_forward, args.steps, args.warmup)
    med = statistics.median
    (t_off, t_ours), (g_off, g_ours) = train["wall"], g_fwd["wall"]
    return {
        "preset": PRESET, "batch": args.batch, "steps": args.steps, "warmup": args.warmup,
        "params": params,
        "official_train_img_per_s": args.batch / med(t_off),
        "ladabench_train_img_per_s": args.batch / med(t_ours),
        "train_ratio": med(t_off) / med(t_ours),
        "train_ratio_cpu_time": med(train["cpu"][0]) / med(train["cpu"][1]),
        "official_g_forward_img_per_s": args.batch / med(g_off),
        "ladabench_g_forward_img_per_s": args.batch / med(g_ours),
        "g_forward_ratio": med(g_off) / med(g_ours),
        "g_forward_ratio_cpu_time": med(g_fwd["cpu"][0]) / med(g_fwd["cpu"][1]),
        "train_step_s": {"official": t_off, "ladabench": t_ours},
        "train_step_cpu_s": {"official": train["cpu"][0], "ladabench": train["cpu"][1]},
        "g_forward_s": {"official": g_off, "ladabench": g_ours},
        "loadavg_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "device_name": device_name("cpu"), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "git": git_info(), "official": str(Path(args.official).resolve()),
    }


def report(r: dict) -> None:
    print(f"{r['preset']}, batch {r['batch']}, fp32, R1 every step, DiffAugment color,translation; "
          f"{r['device_name']}, torch {r['torch']}; medians of {r['steps']} alternating steps "
          f"after {r['warmup']} warm-up; load average {r['loadavg_1min']['before']:.1f} -> "
          f"{r['loadavg_1min']['after']:.1f}")
    p = r["params"]
    print(f"  params G/D: official {p['official']['G']:,}/{p['official']['D']:,}, "
          f"ladabench {p['ladabench']['G']:,}/{p['ladabench']['D']:,}")
    print(f"  train step: official {r['official_train_img_per_s']:.2f} img/s, ladabench "
          f"{r['ladabench_train_img_per_s']:.2f} img/s -> ratio {r['train_ratio']:.2f}x "
          f"(process CPU time: {r['train_ratio_cpu_time']:.2f}x)")
    print(f"  G forward (EMA, no grad): official {r['official_g_forward_img_per_s']:.1f} img/s, "
          f"ladabench {r['ladabench_g_forward_img_per_s']:.1f} img/s -> ratio "
          f"{r['g_forward_ratio']:.2f}x (process CPU time: {r['g_forward_ratio_cpu_time']:.2f}x)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", required=True, help="the official LadaGAN pytorch/ folder")
    parser.add_argument("--batch", type=int, default=32, help="batch size (default 32)")
    parser.add_argument("--steps", type=int, default=7, help="timed rounds per side (>= 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.steps < 5:
        parser.error("--steps: the median needs at least 5 timed rounds")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    # the official translation calls meshgrid without indexing= (same result, a warning per call)
    warnings.filterwarnings("ignore", message="torch.meshgrid: in an upcoming release")
    try:
        result = measure(args)
    except BadInput as e:
        print(f"peer.py: error: {e}", file=sys.stderr)
        return 2
    except NotTheSameModel as e:
        print(f"peer.py: not the same model: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result, sort_keys=True)) if args.json else report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
