"""``ladabench status [SUITE]``: the state of each run, from its summary.json."""
from __future__ import annotations

import argparse

NAME = "status"
HELP = "show each run's state (new, pending, running, interrupted, finished, diverged, failed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", nargs="?", default=None,
                        help="a suite YAML (all its runs, started or not), a suite name under the "
                             "results root or its folder (results/NAME), or nothing (every suite "
                             "there), or one run directory")
    parser.add_argument("--results", default=None, metavar="DIR",
                        help="results root (default: 'results' or the suite's results_root)")
    parser.add_argument("--allow-plugin", dest="allow_plugins", action="append", default=[],
                        metavar="PATH", help="a plugin file of the suite that lies outside its "
                                             "folder, as given to run (never imported here)")


def run(args: argparse.Namespace) -> int:
    from ladabench.launch.status import show_status

    print(show_status(args.suite, args.results, tuple(args.allow_plugins)))
    return 0
