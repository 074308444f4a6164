"""``ladabench train CONFIG.yaml``: one run (one config → one run directory), resumable. The
config file may list ``plugins:``; everything knowable before training is checked first
(``ladabench.launch.preflight``). ``--nproc N`` trains the run as N local processes
(``ladabench.launch.elastic``; docs/distributed.md); a process started by a launcher (RANK set)
is one rank of a run, and only rank 0 checks and reports."""
from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars (training, decoding a folder data set): batch jobs")
    parser.add_argument("--nproc", type=int, default=1, metavar="N",
                        help="train as N local processes, data parallel (gloo on a CPU, NCCL "
                             "with one GPU each); train.batch_size stays the global batch")
    # the --nproc launcher ran the pre-flight; its workers need not repeat it (or its warnings)
    parser.add_argument("--preflight-done", action="store_true", help=argparse.SUPPRESS)


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
    from ladabench.core.errors import ConfigError
    from ladabench.core.rundir import check_output_folder
    from ladabench.launch.preflight import preflight
    from ladabench.suite.runfile import load_train_config

    cfg, _ = load_train_config(args.config, option_sets(args), tuple(args.allow_plugins))
    out = check_output_folder(args.out, "--out") if args.out else Path("results") / cfg.run_id()
    main_rank = os.environ.get("RANK", "0") in ("", "0")
    if args.nproc < 1:
        raise ConfigError(f"--nproc: expected a number of processes >= 1, got {args.nproc}")
    if args.nproc > 1 and "WORLD_SIZE" in os.environ:
        raise ConfigError(f"--nproc: this process is already one of {os.environ['WORLD_SIZE']} "
                          "ranks started by a launcher (WORLD_SIZE is set); drop --nproc")
    if cfg.train.batch_size % args.nproc:
        raise ConfigError(f"{cfg.train.batch_size} does not split over {args.nproc} processes "
                          f"(--nproc; expected a multiple of {args.nproc})",
                          key="train.batch_size", source=args.config)
    if args.nproc > 1:
        from ladabench.launch.elastic import check_gpus

        check_gpus(cfg.train.device, args.nproc)
    if main_rank and not args.preflight_done:
        for warning in preflight([cfg], args.config, out, "--out"):
            print(f"ladabench train: warning: {warning}", file=sys.stderr)
    if args.nproc > 1:
        return _launch(args, out)
    summary = train_config(cfg, out, quiet=args.quiet)
    if main_rank:
        _report(summary, out)
    return exit_code(summary)


def _report(summary: dict, out: Path) -> None:
    """``finished: DIR (step S, N images, T s, P processes): fid …`` (the final scores and the
    checkpoint they scored, when there are any)."""
    from ladabench.launch.status import metric_text

    world = summary.get("world_size", 1)
    scores = metric_text(summary, "final")
    print(f"{summary['status']}: {out} (step {summary['step']}, "
          f"{summary['images_seen']} images, {summary['wall_time_s']:.0f} s, "
          f"{world} process{'' if world == 1 else 'es'})" + (f": {scores}" if scores else ""))


def _launch(args: argparse.Namespace, out: Path) -> int:
    """The run as ``args.nproc`` processes, each this command without ``--nproc``; the exit
    code and the report come from the summary rank 0 wrote."""
    from ladabench.core.errors import LadabenchError
    from ladabench.core.rundir import RunDir, read_summary
    from ladabench.launch.elastic import launch_local

    argv = ["train", args.config, "--out", str(out), "--quiet", "--preflight-done"]
    argv += [f"--set={s}" for s in option_sets(args)]
    argv += [f"--allow-plugin={p}" for p in args.allow_plugins]
    trouble = launch_local(argv, args.nproc)
    summary = read_summary(RunDir(out))
    if summary is None:
        raise LadabenchError(f"{out}: no summary.json: the {args.nproc} processes did not start "
                             f"the run ({trouble})")
    if trouble and summary["status"] in ("running", "failed"):
        print(f"ladabench train: {trouble}; {summary.get('error') or 'see the log above'}",
              file=sys.stderr)
        return 1
    return exit_code(summary)  # rank 0 reported the run


def exit_code(summary: dict) -> int:
    """0 finished; 128 + N when signal N stopped the run (143 SIGTERM, 130 SIGINT), as shells
    report a killed command; 0 for another stop request (the launcher's); 1 otherwise."""
    if summary["status"] == "finished":
        return 0
    if summary["status"] == "interrupted":
        stopped_by = summary.get("stopped_by") or ""
        return 128 + signal.Signals[stopped_by] if stopped_by.startswith("SIG") else 0
    return 1
