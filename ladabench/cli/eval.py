"""``ladabench eval RUN_DIR|CHECKPOINT|IMAGES``: score again, without the training code path."""
from __future__ import annotations

import argparse
import json

NAME = "eval"
HELP = ("score a run directory (its selected checkpoint), a checkpoint, or a folder of images / "
        "an .npz, and write a run's results into its summary.json under their protocol")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="RUN_DIR|CHECKPOINT|IMAGE_FOLDER|FILE.npz")
    parser.add_argument("--protocol", choices=("final", "in-loop"), default="final",
                        help="sample counts of the run's final evaluation (eval.final_n_gen/"
                             "final_n_real, default) or of its in-loop one (eval.n_gen/n_real)")
    parser.add_argument("--extractor", default=None,
                        help="inception-v3-compat (standard) or digits-cnn (offline, non-standard)")
    parser.add_argument("--metrics", default=None, metavar="fid,kid,isc,prc,...",
                        help="comma-separated metric names (default: the run's eval.metrics)")
    parser.add_argument("--n-gen", type=int, default=None, help="generated images")
    parser.add_argument("--n-real", type=int, default=None, help="real images")
    parser.add_argument("--inception-weights", default=None, metavar="PATH",
                        help="local Inception weights file (offline nodes)")
    parser.add_argument("--config", default=None, metavar="RUN_DIR|CONFIG.yaml",
                        help="for image files: the run whose data set and eval settings apply")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="override a data.* or eval.* key of the run's config, e.g. "
                             "--set data.root=/scratch/cifar10 (repeatable)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--plugin", dest="plugins", action="append", default=[], metavar="FILE.py",
                        help="a plugin file the run was trained with (its preset or attention "
                             "variant; repeatable)")


def _options(args: argparse.Namespace):
    from ladabench.core.errors import ConfigError
    from ladabench.train.rescore import EvalOptions

    for key, value in (("--n-gen", args.n_gen), ("--n-real", args.n_real)):
        if value is not None and value <= 0:
            raise ConfigError(f"expected a positive number of images, got {value}", key=key)
    metrics = None
    if args.metrics is not None:
        metrics = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    return EvalOptions(protocol=args.protocol, extractor=args.extractor, metrics=metrics,
                       n_gen=args.n_gen, n_real=args.n_real,
                       inception_weights=args.inception_weights, config=_config(args.config),
                       sets=tuple(args.sets))


def _config(config: str | None):
    """A run directory as given; a run file read as ``train`` reads it (its ``plugins:``)."""
    from pathlib import Path

    from ladabench.suite.runfile import load_train_config

    if config is None or Path(config).is_dir():
        return config
    return load_train_config(config, [], ())[0]


def run(args: argparse.Namespace) -> int:
    from ladabench.device import resolve_device
    from ladabench.suite.plugins import load_plugin_files
    from ladabench.train.rescore import rescore

    load_plugin_files(args.plugins)  # the run's own presets and variants, before its config

    out = rescore(args.target, _options(args), resolve_device(args.device, key="--device"))
    if args.json:
        print(json.dumps(out, indent=2, sort_keys=True))
        return 0
    where = "images"
    if out["checkpoint"]:
        where = f"{out['checkpoint']} ({out['images_seen']} images seen)"
    for metric, v in out["results"].items():
        std = f" ± {v['std']:.4g}" if v.get("std") is not None else ""
        p = v["protocol"]
        real = f" vs {p['n_real']} real" if p.get("n_real") is not None else ""
        print(f"{metric}: {v['value']:.4g}{std}  [{p.get('extractor')}, {p.get('n_gen')} gen"
              f"{real}] {where}")
    if out["written_to"]:
        print(f"written to {out['written_to']}")
    return 0
