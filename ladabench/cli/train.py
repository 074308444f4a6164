"""``ladabench train CONFIG.yaml``: one run (one config → one run directory), resumable."""
from __future__ import annotations

import argparse
import signal

NAME = "train"
HELP = "train one run config into a run directory (resumes from its last checkpoint)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="run config YAML (sections model, data, train, eval)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set train.images=25600 "
                             "(repeatable; the value is read as YAML)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="run directory (default: results/<name>-<config hash>)")
    parser.add_argument("--device", default=None,
                        help="auto (default: CUDA if available, else CPU), cpu, cuda, cuda:1, ...")
    parser.add_argument("--quiet", action="store_true", help="no progress bar (batch jobs)")


def run(args: argparse.Namespace) -> int:
    from ladabench.api import train_config
    from ladabench.config import load_run_config
    from ladabench.core.rundir import check_output_folder

    sets = list(args.sets) + ([f"train.device={args.device}"] if args.device else [])
    cfg = load_run_config(args.config, sets)
    out = check_output_folder(args.out, "--out") if args.out else f"results/{cfg.run_id()}"
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
