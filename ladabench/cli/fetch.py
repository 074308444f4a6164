"""``ladabench fetch [--inception] [--dataset cifar10 ...] [--dest DIR]``: download weights and
data sets with checksums, for clusters whose compute nodes have no internet."""
from __future__ import annotations

import argparse
from pathlib import Path

NAME = "fetch"
HELP = "download the FID Inception weights and data sets into the caches (checksummed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--inception", action="store_true",
                        help="torch-fidelity's TF-Inception weights (weights-inception-2015-12-05-6726825d.pth)")
    parser.add_argument("--dataset", action="append", default=[], metavar="NAME",
                        help="a data set to download (repeatable), e.g. cifar10")
    parser.add_argument("--dest", type=Path, default=None,
                        help="put everything under DIR instead of the default caches")
    parser.add_argument("--inception-sha256", default=None, metavar="HEX",
                        help="expected sha256 of the Inception file (verified when given)")


def run(args: argparse.Namespace) -> int:
    from ladabench.metrics.assets import fetch_assets

    fetch_assets(args.inception, args.dataset, args.dest, args.inception_sha256)
    return 0
