"""The ``ladabench`` command line: one module per subcommand, each a thin layer over one
library call (``main`` parses, runs, and maps errors to exit codes)."""
from ladabench.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
