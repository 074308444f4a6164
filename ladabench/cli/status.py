"""``ladabench status [SUITE]``: the state of each run, from its summary.json."""
from __future__ import annotations

import argparse

NAME = "status"
HELP = "show each run's state (new, pending, running, interrupted, finished, diverged, failed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", nargs="?", default=None,
                        help="a suite YAML (all its runs, started or not), a suite name under the "
                             "results root or its folder (results/NAME), or nothing (every suite "
                             "there)")
    parser.add_argument("--results", default=None, metavar="DIR",
                        help="results root (default: 'results' or the suite's results_root)")


def run(args: argparse.Namespace) -> int:
    from ladabench.launch.status import show_status

    print(show_status(args.suite, args.results))
    return 0
