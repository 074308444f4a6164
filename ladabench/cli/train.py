"""``ladabench train CONFIG.yaml``: one run (one config → one run directory), resumable. The
config file may list ``plugins:``; everything knowable before training is checked first
(``ladabench.launch.preflight``)."""
from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

NAME = "train"
HELP = "train one run config into a run directory (resumes from its last checkpoint)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="run config YAML (sections model, data, train, eval; "
                                       "optional plugins: [file.py])")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.images=25600 "
                             "(repeatable; the value is read as YAML)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="run directory (default: results/<name>-<config hash>)")
    parser.add_argument("--device", default=None,
                        help="auto (default: CUDA if available, else CPU), cpu, cuda, cuda:1, ...")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="the FID Inception weights file (eval.inception_weights; offline "
                             "machines: get it with `ladabench fetch --inception`)")
    parser.add_argument("--allow-plugin", dest="allow_plugins", action="append", default=[],
                        metavar="PATH", help="run this plugin file although it lies outside the "
                                             "config file's folder (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (batch jobs)")


def option_sets(args: argparse.Namespace) -> list[str]:
    """``--set`` strings plus those of the shortcut options (``--device``, ``--inception-weights``)."""
    sets = list(args.sets)
    if args.device:
        sets.append(f"train.device={args.device}")
    if args.inception_weights:
        sets.append(f"eval.inception_weights={args.inception_weights!r}")
    return sets


def run(args: argparse.Namespace) -> int:
    from ladabench.api import train_config
    from ladabench.core.rundir import check_output_folder
    from ladabench.launch.preflight import preflight
    from ladabench.suite.runfile import load_train_config

    cfg, _ = load_train_config(args.config, option_sets(args), tuple(args.allow_plugins))
    out = check_output_folder(args.out, "--out") if args.out else Path("results") / cfg.run_id()
    for warning in preflight([cfg], args.config, out, "--out"):
        print(f"ladabench train: warning: {warning}", file=sys.stderr)
    summary = train_config(cfg, out, quiet=args.quiet)
    print(f"{summary['status']}: {out} (step {summary['step']}, "
          f"{summary['images_seen']} images, {summary['wall_time_s']:.0f} s)")
    return exit_code(summary)


def exit_code(summary: dict) -> int:
    """0 finished; 128 + N when signal N stopped the run (143 SIGTERM, 130 SIGINT), as shells
    report a killed command; 0 for another stop request (the launcher's); 1 otherwise."""
    if summary["status"] == "finished":
        return 0
    if summary["status"] == "interrupted":
        stopped_by = summary.get("stopped_by") or ""
        return 128 + signal.Signals[stopped_by] if stopped_by.startswith("SIG") else 0
    return 1
