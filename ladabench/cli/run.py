"""``ladabench run SUITE``: validate a suite, then launch its runs (or print them with --dry-run)."""
from __future__ import annotations

import argparse

NAME = "run"
HELP = "validate a suite YAML and launch its runs (local, debug or SLURM); finished runs are skipped"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("suite", help="suite file, e.g. suites/quickstart.yaml")
    parser.add_argument("--executor", choices=("local", "debug", "slurm"), default="local",
                        help="local: subprocesses on this machine (default); debug: in-process, "
                             "sequential, stops at the first failure with its traceback; slurm: "
                             "one job array, one task per run")
    parser.add_argument("--pdb", action="store_true",
                        help="debug executor: open the post-mortem debugger on a failing run")
    parser.add_argument("--profile", default=None, metavar="YAML",
                        help="SLURM profile (partition, account, ...), e.g. slurm/profiles/local.yaml")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the expanded runs and their resources; launch and write nothing")
    parser.add_argument("--only", default=None, metavar="PATTERN",
                        help="only runs whose id matches this glob (plain text: contains it)")
    parser.add_argument("--max-parallel", type=int, default=1, metavar="N",
                        help="local executor: at most N runs at once (default 1)")
    parser.add_argument("--threads", type=int, default=None, metavar="N",
                        help="local executor: torch (and BLAS) threads per run (default: the "
                             "cores shared among --max-parallel runs)")
    parser.add_argument("--force", action="store_true",
                        help="delete the selected runs' folders and start them again")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key in every run, e.g. --set train.images=2048 "
                             "(repeatable; the value is read as YAML)")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="the FID Inception weights file for every run "
                             "(eval.inception_weights; get it with `ladabench fetch --inception`)")
    parser.add_argument("--smoke", action="store_true",
                        help="a trial: a few steps and a tiny evaluation, in results/<suite>_smoke/, "
                             "with small resources (no GPU unless a run names cuda, 2 CPUs, "
                             "8 GB, 30 min)")
    parser.add_argument("--results", default=None, metavar="DIR",
                        help="results root (default: the suite's results_root, 'results')")
    parser.add_argument("--allow-plugin", dest="allow_plugins", action="append", default=[],
                        metavar="PATH", help="run this plugin file although it lies outside the "
                                             "suite's folder (repeatable)")
    parser.add_argument("--wait", action="store_true",
                        help="slurm: wait until every task has finished (local/debug always wait)")
    parser.add_argument("--quiet", action="store_true",
                        help="progress lines only when a run starts or ends, no periodic "
                             "progress (batch and SLURM logs)")


def run(args: argparse.Namespace) -> int:
    from ladabench.launch import run_suite

    sets = list(args.sets)
    if args.inception_weights:
        sets.append(f"eval.inception_weights={args.inception_weights!r}")
    return run_suite(args.suite, args.executor, profile=args.profile, dry_run=args.dry_run,
                     only=args.only, max_parallel=args.max_parallel, force=args.force,
                     sets=sets, smoke=args.smoke, results_root=args.results, wait=args.wait,
                     allow_plugins=tuple(args.allow_plugins), quiet=args.quiet,
                     threads=args.threads, pdb=args.pdb)
