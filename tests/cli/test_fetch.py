"""``ladabench fetch``: exit codes and messages (nothing is downloaded)."""
from __future__ import annotations

from ladabench.cli import main


def test_nothing_to_fetch_exits_2(capsys):
    assert main(["fetch"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ladabench fetch: error: nothing to fetch: pass --inception and/or --dataset NAME (downloadable: cifar10)"
    )


def test_unknown_dataset_exits_2(capsys):
    assert main(["fetch", "--dataset", "cifar100"]) == 2
    assert "unknown downloadable data set 'cifar100' (did you mean 'cifar10'?)" in capsys.readouterr().err
