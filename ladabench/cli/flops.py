"""``ladabench flops``: parameters and MACs of G and D per preset × attention variant. The
default table fits 100 columns and prints each row as soon as it is counted; ``--wide`` has
every column."""
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
    parser.add_argument("--wide", action="store_true",
                        help="table format: every column (exact MACs, BatchNorm statistics, "
                             "skipped ops), printed once all rows are counted")


def run(args: argparse.Namespace) -> int:
    from ladabench.measure import costs  # torch + fvcore: load on use

    presets, attentions = costs.table_names(args.preset, args.attention)
    rows = costs.iter_cost_rows(presets, attentions, by_module=args.by_module)
    if args.format != "table" or args.wide:
        print(costs.format_costs(list(rows), args.format), end="")
        return 0
    print(costs.table_header(costs.NARROW_WIDTH), end="", flush=True)
    for line in costs.narrow_lines(rows, presets, attentions, args.by_module):
        print(line, flush=True)
    return 0
