"""Subcommand modules, in the order ``ladabench --help`` lists them. Each defines ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``run(args) -> int`` and imports what it needs inside
``run``, so ``ladabench --help`` starts without torch."""
from ladabench.cli import bench, check, eval, fetch, flops, generate, report, run, status, train

COMMAND_MODULES: list = [run, status, check, report, flops, train, generate, eval, bench, fetch]
