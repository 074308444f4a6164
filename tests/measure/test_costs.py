"""ladabench.measure.costs: the training-MAC convention, per-run costs and the MACs of the models (docs/paper.md §12, matrix products only,
fvcore through ladabench.measure.flops, one forward of one image)."""
import io
import json

import pandas as pd
import pytest
import torch
from torch import nn

from ladabench.core.errors import CapabilityError, ConfigError, RegistryError
from ladabench.measure.flops import count_flops
from ladabench.measure import costs
from ladabench.measure.costs import run_costs, training_macs

# docs/paper.md §12.3 "MACs, matrix products" (+ the derived figure for G)
G_MACS = {
    "cifar10_32": 758_349_824,
    "celeba_64": 758_349_824,
    "ffhq_128": 4_339_924_992,
    "bedroom_128": 914_653_184,
    "bedroom_128_patch": 758_349_824,
    "bedroom_256": 997_228_544,
}
D_MACS = {"cifar10_32": 708_919_296, "celeba_64": 947_339_264, "ffhq_128": 1_189_298_176}
PUBLISHED_G = {"cifar10_32": 0.759e9, "celeba_64": 0.759e9, "ffhq_128": 4.341e9}
FAST = ("cifar10_32", "celeba_64")


def _slow(presets):
    return [pytest.param(p, marks=[] if p in FAST else [pytest.mark.slow]) for p in presets]


@pytest.mark.parametrize("preset", _slow(G_MACS))
def test_generator_macs(preset, fast_model):
    g = fast_model("G", preset=preset)
    report = count_flops(g, torch.randn(1, 128))
    assert report.macs == G_MACS[preset]
    if preset in PUBLISHED_G:
        assert report.macs == pytest.approx(PUBLISHED_G[preset], rel=5e-3)


@pytest.mark.parametrize("preset", _slow(D_MACS))
def test_discriminator_macs(preset, fast_model):
    d = fast_model("D", preset=preset)
    assert count_flops(d, torch.randn(1, 3, d.resolution, d.resolution)).macs == D_MACS[preset]


def test_stage_block_macs_match_closed_form(fast_model):
    # SMLadaformer at C=1024, N=64: Lada NC(4C+h+1) + 2 SLNs (128C + 2C²) + MLP 2NCm
    g = fast_model("G", preset="cifar10_32")
    report = count_flops(g, torch.randn(1, 128))
    n, c, h, m = 64, 1024, 4, 512
    expected = n * c * (4 * c + h + 1) + 2 * (128 * c + 2 * c * c) + 2 * n * c * m
    assert report.by_module["stages.0.block"] == expected == 340_328_448


def test_cost_table_rows_and_groups(monkeypatch, fast_model):
    monkeypatch.setattr(costs, "build_generator", lambda cfg: fast_model("G", preset=cfg.preset))
    monkeypatch.setattr(costs, "build_discriminator",
                        lambda cfg: fast_model("D", preset=cfg.preset))
    rows = costs.cost_table(["cifar10_32"], ["lada"], by_module=True)
    total = {r.model: r for r in rows if r.module == "total"}
    assert (total["G"].params, total["G"].macs) == (19_901_647, 758_349_824)
    assert (total["D"].params, total["D"].bn_stats, total["D"].macs) == (6_775_940, 1_536,
                                                                       708_919_296)
    assert total["G"].skipped["softmax"] == 3  # one per Lada layer, counted 0 and listed
    g_groups = [r for r in rows if r.model == "G" and r.module != "total"]
    assert sum(r.params for r in g_groups) == 19_901_647
    assert sum(r.macs for r in g_groups) == 758_349_824
    assert {r.module: r.macs for r in g_groups}["stage16.conv"] == 256 * 256 * 9 * 256  # conv_8
    # docs/paper.md §12.3 "MACs + 2NC per block": the derived figures
    assert (total["G"].macs_paper, total["D"].macs_paper) == (758_743_040, 709_050_368)
    assert sum(r.macs_paper for r in g_groups) == 758_743_040


def test_unbuildable_combination_is_listed(monkeypatch, fast_model):
    def refuse(cfg):
        raise CapabilityError("attention 'x': window 3 does not divide the 8x8 token grid")

    monkeypatch.setattr(costs, "build_generator", refuse)
    monkeypatch.setattr(costs, "build_discriminator",
                        lambda cfg: fast_model("D", preset=cfg.preset))
    rows = costs.cost_table(["cifar10_32"], ["lada"])
    assert [(r.model, r.macs, r.error) for r in rows][0] == (
        "G", None, "attention 'x': window 3 does not divide the 8x8 token grid")
    assert rows[1].macs == 708_919_296
    text = costs.format_costs(rows, "table")
    assert "window 3 does not divide" in text
    csv = pd.read_csv(io.StringIO(costs.format_costs(rows, "csv")), comment="#")
    assert list(csv["model"]) == ["G", "D"] and csv["macs"].isna().tolist() == [True, False]
    doc = json.loads(costs.format_costs(rows, "json"))
    assert doc["convention"].startswith("MACs of matrix products only")
    assert doc["rows"][1]["macs"] == 708_919_296 and doc["rows"][0]["error"]


def test_bad_names_fail_before_building():
    with pytest.raises(RegistryError, match="unknown preset 'cifar'"):
        costs.cost_table(["cifar"], ["lada"])
    with pytest.raises(RegistryError, match="unknown attention 'ladda'"):
        costs.cost_table(["cifar10_32"], ["ladda"])
    with pytest.raises(ConfigError, match="--format: expected one of"):
        costs.format_costs([], "xml")


def test_training_macs_convention():
    # 3 × (G + D) × images: 3 × (758,349,824 + 1,000) × 64
    assert training_macs(758_349_824, 1_000, 64) == 3 * 758_350_824 * 64
    assert training_macs(10, 20, 0) == 0
    with pytest.raises(ValueError, match="non-negative"):
        training_macs(-1, 2, 3)


def test_run_costs_counts_linear_and_conv():
    g = nn.Sequential(nn.Linear(8, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)))
    d = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.Flatten(), nn.Linear(5 * 16, 1))
    costs = run_costs(g, d, noise_dim=8, resolution=4)
    assert costs["params"] == {"G": 8 * 48 + 48, "D": 3 * 5 * 9 + 5 + 80 + 1}
    assert costs["macs"] == {"G": 8 * 48, "D": 16 * 5 * 3 * 9 + 80}
    assert "3 x (MACs_G + MACs_D)" in costs["convention"]["train_macs"]


def test_narrow_lines_stream_each_row_as_it_is_counted():
    events = []

    def rows():
        for model in ("G", "D"):
            events.append(f"counted {model}")
            yield costs.CostRow("p", "a", model, params=1_234, macs=2 * 10**9, macs_paper=3 * 10**9)
        events.append("counted E")
        yield costs.CostRow("p", "a", "G", error="x" * 300)

    for line in costs.narrow_lines(rows(), ["p"], ["a"], width=70):
        events.append(line.split())
    assert events[:3] == [["preset", "attention", "model", "params", "GMACs", "GMACs", "paper",
                           "note"], "counted G", ["p", "a", "G", "1,234", "2.000", "3.000"]]
    assert events[3:5] == ["counted D", ["p", "a", "D", "1,234", "2.000", "3.000"]]
    assert events[5] == "counted E" and events[6][:6] == ["p", "a", "G", "-", "-", "-"]
    assert len(" ".join(events[6])) <= 70
