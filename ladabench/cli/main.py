"""``ladabench`` command line: parse, call one library function, map errors to exit codes.

Each subcommand lives in ``ladabench/cli/<name>.py`` (listed in ``ladabench.cli.commands``) and
defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from ladabench.cli.commands import COMMAND_MODULES
from ladabench.core.errors import LadabenchError


def version_text() -> str:
    """``ladabench X.Y.Z`` (the installed distribution's version) and the Python it runs on."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("ladabench")
    except PackageNotFoundError:
        installed = "(not installed: run from a source tree)"
    return f"ladabench {installed} (Python {sys.version.split()[0]})"


PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_library_format = warnings.formatwarning


def one_line_warning(message, category, filename, lineno, line=None) -> str:
    """ladabench's own warnings as one line (they name file and key already; Python's format
    adds the warning call's source line under it); other libraries' keep Python's format."""
    if str(filename).startswith(PACKAGE_DIR):
        return f"ladabench: warning: {message}\n"
    return _library_format(message, category, filename, lineno, line)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ladabench", description="Benchmark suite for efficient-attention GANs."
    )
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMAND_MODULES:
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.formatwarning = one_line_warning
    try:
        return int(args._run(args) or 0)
    except LadabenchError as e:
        print(f"ladabench {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
