"""``ladabench --version`` prints the installed version, the one pyproject.toml declares."""
import sys
import tomllib
from pathlib import Path

import pytest

from ladabench.cli import main

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_version_is_the_declared_one(capsys):
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == (f"ladabench {declared} "
                                       f"(Python {sys.version.split()[0]})\n")
