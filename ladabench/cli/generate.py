"""``ladabench generate RUN_DIR|CHECKPOINT --n N --out DIR|FILE.npz``: images of the EMA
generator."""
from __future__ import annotations

import argparse

NAME = "generate"
HELP = ("write N images of a run's EMA generator (its selected checkpoint: best.pt, else "
        "last.pt) as PNG files or one uint8 .npz")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="RUN_DIR|CHECKPOINT",
                        help="a run directory or a checkpoints/*.pt file")
    parser.add_argument("--n", type=int, required=True, help="number of images")
    parser.add_argument("--out", required=True, metavar="DIR|FILE.npz",
                        help="folder of 000000.png, ... or an .npz (arr_0: uint8 (N, R, R, 3))")
    parser.add_argument("--seed", type=int, default=None,
                        help="noise seed (default 2020: the images the metrics score)")
    parser.add_argument("--truncation", choices=("none",), default="none",
                        help="LadaGAN samples z ~ N(0, I) without truncation")
    parser.add_argument("--batch", type=int, default=None,
                        help="images per forward (default: the run's eval.batch_size)")
    parser.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, ...")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--plugin", dest="plugins", action="append", default=[], metavar="FILE.py",
                        help="a plugin file the run was trained with (its preset or attention "
                             "variant; repeatable)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ladabench.core.errors import ConfigError
    from ladabench.device import resolve_device
    from ladabench.metrics.fidelity import NOISE_SEED
    from ladabench.train.generate import sample_uint8, write_images
    from ladabench.suite.plugins import load_plugin_files
    from ladabench.train.trained import load_trained

    if args.batch is not None and args.batch <= 0:
        raise ConfigError(f"expected a positive batch size, got {args.batch}", key="--batch")
    load_plugin_files(args.plugins)  # the run's own presets and variants, before its config
    trained = load_trained(args.source, resolve_device(args.device, key="--device"))
    seed = NOISE_SEED if args.seed is None else args.seed
    images = sample_uint8(trained, args.n, seed, args.batch, progress=not args.quiet)
    out = write_images(images, Path(args.out))
    print(f"{len(images)} images {tuple(images.shape[1:])} of {trained.checkpoint} "
          f"({trained.images_seen} images seen, seed {seed}) -> {out}")
    return 0
