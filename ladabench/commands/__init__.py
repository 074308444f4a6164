"""Subcommand modules, in the order ``ladabench --help`` lists them."""


COMMAND_MODULES: list = []
