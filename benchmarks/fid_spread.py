"""FID/KID spread of the CI gate suite across seeds, CPU kernel sets and thread counts: the
measurement behind the tolerances in baselines/regression/ci_regression.yaml.

Runs suites/ci_regression.yaml (all seeds) once per setting into
``<out>/<setting>/ci_regression/`` and prints the final values per seed and setting, the
seed-to-seed standard deviation and how far each setting's mean lies from the first one's.
A setting is a set of environment variables read when torch starts in each run's process:

- ``native-1thread``: this CPU's kernels, one thread (as .ci/run records and checks),
- ``oldest-1thread``: ATen without SIMD (``ATEN_CPU_CAPABILITY=default``), oneDNN convolutions on
  SSE4.1 and MKL GEMM on SSE4.2: a stand-in for a CPU unlike this one,
- ``avx2-1thread``: ATen's AVX2 kernels (only where the native ones are AVX-512),
- ``native-2threads``: this CPU's kernels on two threads (runs one at a time).

    python benchmarks/fid_spread.py [--out results/fid_spread] [--settings native-1thread ...]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "suites" / "ci_regression.yaml"
OLDEST = {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41",
          "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}
#: setting -> (environment, --max-parallel)
SETTINGS = {
    "native-1thread": ({"OMP_NUM_THREADS": "1"}, 2),
    "oldest-1thread": ({"OMP_NUM_THREADS": "1", **OLDEST}, 2),
    "avx2-1thread": ({"OMP_NUM_THREADS": "1", "ATEN_CPU_CAPABILITY": "avx2"}, 2),
    "native-2threads": ({"OMP_NUM_THREADS": "2"}, 1),
}


def native_capability() -> str:
    import torch

    return torch.backends.cpu.get_cpu_capability()


def run_setting(name: str, out: Path) -> Path:
    env_extra, parallel = SETTINGS[name]
    env = {k: v for k, v in os.environ.items() if k not in {*OLDEST, "OMP_NUM_THREADS"}}
    env.update(env_extra)
    cmd = [sys.executable, "-m", "ladabench.cli", "run", str(SUITE), "--executor", "local",
           "--max-parallel", str(parallel), "--results", str(out / name), "--quiet"]
    subprocess.run(cmd, env=env, check=True)
    return out / name / "ci_regression"


def summarise(folders: dict[str, Path]) -> str:
    from ladabench.results.gate import load_runs

    values = {name: {r["seed"]: {m: r["final"][m]["value"] for m in r["final"]}
                     for r in load_runs(folder) if r["status"] == "finished"}
              for name, folder in folders.items()}
    metrics = sorted({m for per_seed in values.values() for v in per_seed.values() for m in v})
    lines = []
    for metric in metrics:
        lines.append(f"{metric}:")
        means = {}
        for name, per_seed in values.items():
            vals = [per_seed[s][metric] for s in sorted(per_seed)]
            means[name] = statistics.fmean(vals)
            std = statistics.stdev(vals) if len(vals) > 1 else float("nan")
            seeds = ", ".join(f"{v:.1f}" for v in vals)
            lines.append(f"  {name:<16} seeds {sorted(per_seed)}: {seeds}; mean {means[name]:.1f}, "
                         f"seed std {std:.1f}")
        first = next(iter(means))
        for name, mean in means.items():
            if name != first:
                lines.append(f"  mean {name} - {first}: {mean - means[first]:+.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/fid_spread"))
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=None)
    args = parser.parse_args(argv)
    names = args.settings or [n for n in SETTINGS
                              if n != "avx2-1thread" or native_capability() != "AVX2"]
    folders = {name: run_setting(name, args.out) for name in names}
    print(summarise(folders))
    return 0


if __name__ == "__main__":
    sys.exit(main())
