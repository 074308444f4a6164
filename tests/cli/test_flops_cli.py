"""``ladabench flops`` end to end through ``ladabench.cli.main``."""
import json
import math
import re

import pytest
import torch

from ladabench.cli import main


@pytest.fixture
def fast_init(monkeypatch):
    """Gaussian stand-in for the orthogonal init: counts do not depend on the weights, and the
    ~60 QR decompositions per model take seconds on a 2-core CPU."""

    def gaussian_(tensor, gain=1.0, generator=None):
        with torch.no_grad():
            return tensor.normal_(0.0, gain / math.sqrt(max(tensor[0].numel(), 1)))

    monkeypatch.setattr(torch.nn.init, "orthogonal_", gaussian_)


def test_flops_table_for_cifar10_lada(fast_init, capsys):
    assert main(["flops", "--preset", "cifar10_32", "--attention", "lada", "--wide"]) == 0
    out = capsys.readouterr().out
    assert "MACs of matrix products only" in out and "one forward of one image" in out
    g = next(line for line in out.splitlines() if re.search(r"\blada\s+G\s+total", line))
    d = next(line for line in out.splitlines() if re.search(r"\blada\s+D\s+total", line))
    assert "19,901,647" in g and "758,349,824" in g and "softmaxx3" in g
    assert "6,775,940" in d and "708,919,296" in d
    gmacs, paper = (float(v) for v in re.findall(r"([\d.]+) G\b", g))
    # the derived "0.759 G" of docs/paper.md §12.3 (published: 0.7B)
    assert gmacs == pytest.approx(0.759, rel=5e-3)
    assert paper == 0.759  # + Lada's 2NC element-wise products per block, as published


def test_flops_json_by_module(fast_init, capsys):
    assert main(["flops", "--preset", "cifar10_32", "--attention", "lada", "--format", "json",
                 "--by-module"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {(r["model"], r["module"]): r for r in doc["rows"]}
    assert rows[("G", "stage8.block")]["macs"] == 340_328_448  # docs/paper.md §5.3
    assert rows[("D", "total")]["bn_stats"] == 1_536


def test_flops_unknown_preset_exits_2(capsys):
    assert main(["flops", "--preset", "cifar"]) == 2
    err = capsys.readouterr().err
    assert "unknown preset 'cifar'" in err and len(err.strip().splitlines()) == 1


def test_the_default_table_fits_100_columns(fast_init, capsys):
    assert main(["flops", "--preset", "cifar10_32", "--attention", "lada", "--attention", "swin",
                 "--by-module"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 100  # the convention lines above the table too
    assert "MACs of matrix products only" in " ".join(lines)
    table = [line for line in lines if not line.startswith("#")]
    assert table[0].split() == ["preset", "attention", "model", "module", "params", "GMACs",
                                "GMACs", "paper", "note"]
    g = next(line for line in table if re.search(r"\blada\s+G\s+total", line))
    assert g.split()[4:] == ["19,901,647", "0.758", "0.759"]
    assert any(re.search(r"\bswin\s+D\s+block", line) for line in table)
