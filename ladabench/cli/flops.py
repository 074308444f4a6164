"""``ladabench flops``: parameters and MACs of G and D per preset × attention variant."""
from __future__ import annotations

import argparse

NAME = "flops"
HELP = ("Parameters and MACs (one forward, one image, matrix products only) of G and D "
        "for every preset x attention variant")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", action="append", metavar="P",
                        help="architecture preset (repeatable; default: all)")
    parser.add_argument("--attention", action="append", metavar="A",
                        help="attention variant for G and D (repeatable; default: all)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table")
    parser.add_argument("--by-module", action="store_true",
                        help="add one row per block group (block_groups()) of each model")


def run(args: argparse.Namespace) -> int:
    from ladabench.measure.costs import cost_table, format_costs  # torch + fvcore: load on use

    rows = cost_table(args.preset, args.attention, by_module=args.by_module)
    print(format_costs(rows, args.format), end="")
    return 0
