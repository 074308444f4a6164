"""``ladabench check RESULTS``: the CI regression gate (exit 0 pass, 1 regression, 2 cannot compare)."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "check"
HELP = "compare finished runs with a committed regression baseline (exit 0 / 1 regression / 2 cannot compare)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="a suite's results folder, e.g. results/ci_regression")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="baseline YAML (default: baselines/regression/<RESULTS folder name>.yaml)")
    parser.add_argument("--update", action="store_true",
                        help="write the baseline from these results instead of checking "
                             "(keeps an existing file's tolerances)")


def run(args: argparse.Namespace) -> int:
    from ladabench.api import check
    from ladabench.measure.reference import reference_now
    from ladabench.results import gate

    baseline = args.baseline or Path("baselines/regression") / f"{args.results.name}.yaml"
    if args.update:
        new = gate.update_baseline(args.results, baseline, reference_now)
        print(f"wrote {baseline}: {len(new.runs)} run(s), seeds {new.provenance['seeds']}, "
              f"device class {new.device_class}")
        return 0
    rows, code = check(args.results, baseline)
    print(gate.format_rows(rows))
    print(gate.verdict(rows, args.results, baseline))
    return code
