"""Subcommand modules, in the order ``ladabench --help`` lists them."""
from ladabench.commands import check
from ladabench.commands import flops
from ladabench.commands import report
from ladabench.commands import run, status
from ladabench.commands import bench, train
from ladabench.commands import fetch


COMMAND_MODULES: list = [run, status, check, report, flops, train, bench, fetch]
