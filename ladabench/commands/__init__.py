"""Subcommand modules, in the order ``ladabench --help`` lists them."""
from ladabench.commands import check


COMMAND_MODULES: list = [check]
