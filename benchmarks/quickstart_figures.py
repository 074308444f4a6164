"""The quickstart's figures, as the README quotes them, from a finished results/quickstart:
per variant the FID of the untrained generator (at 0 images) and at the end, their ratio, the
images reached, the in-training evaluations, training CPU/wall seconds; the disk use of the
results folder; and whether the quickstart's targets hold (exit 1 when one does not):
every variant at least 4 FID evaluations and a final FID at most 90 % of its first, the
reference variant (Lada) at most 30 %, the results folder at most 300 MB.

    python benchmarks/quickstart_figures.py [results/quickstart]

``benchmarks/quickstart_time.sh`` times ``make quickstart`` from scratch and then runs this.
"""
from __future__ import annotations

import sys
from pathlib import Path

from ladabench.results import load_results

REFERENCE = "lada"
MAX_RATIO, MAX_RATIO_REFERENCE, MIN_EVALS, MAX_MB = 0.90, 0.30, 4, 300


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def figures(folder: Path) -> tuple[list[str], bool]:
    """(report lines, every target met)."""
    results = load_results([folder])
    runs = results.runs.set_index("run_id")
    evals = results.evals[results.evals["metric"] == "fid"]
    lines = [f"{'variant':<12} {'FID at 0':>9} {'final':>8} {'ratio':>6} {'images':>8} "
             f"{'evals':>5} {'train cpu s':>11} {'train wall s':>12}  status"]
    ok = True
    for run_id, run in runs.sort_values("cfg.model.g_attention").iterrows():
        variant = str(run["cfg.model.g_attention"])
        mine = evals[evals["run_id"] == run_id].sort_values("images_seen")
        first = mine[mine["images_seen"] == 0]["value"]
        final = run.get("final/fid")
        ratio = final / first.iloc[0] if len(first) and final == final else float("nan")
        limit = MAX_RATIO_REFERENCE if variant == REFERENCE else MAX_RATIO
        met = run["status"] == "finished" and len(mine) >= MIN_EVALS and ratio <= limit
        ok &= bool(met)
        lines.append(
            f"{variant:<12} {first.iloc[0] if len(first) else float('nan'):>9.0f} {final:>8.0f} "
            f"{ratio:>6.0%} {int(run['images_seen']):>8,} {len(mine):>5} "
            f"{run.get('train_cpu_seconds', float('nan')):>11.0f} "
            f"{run.get('train_seconds', float('nan')):>12.0f}  "
            f"{run['status']}{'' if met else f' (target: >= {MIN_EVALS} evals, ratio <= {limit:.0%})'}")
    mb = folder_bytes(folder) / 1e6
    ok &= mb <= MAX_MB
    lines.append(f"results folder {folder}: {mb:.1f} MB (target <= {MAX_MB} MB)")
    lines.append("all targets met" if ok else "TARGET MISSED")
    return lines, ok


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "results/quickstart")
    lines, ok = figures(folder)
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
