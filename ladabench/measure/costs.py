"""What a model costs: parameters and one-image MACs of G and D (fvcore,
``ladabench.measure.flops``), the training-compute estimate recorded in every run's
``summary.json``, and the table of presets × attention variants of ``ladabench flops``.

MACs are counted for one forward of ONE image, the LadaGAN "FLOPs" convention (docs/paper.md
§12). The derived generator figures (0.759 G, 4.341 G; published as 0.7B, 4.3B) include 2·N·C
element-wise multiplies per block, so the matrix-product count is 0.05 % lower (0.758 G,
4.340 G); ``macs_paper`` adds each attention layer's closed-form element-wise products
(``TokenAttention.elementwise_macs``) to reproduce the derived figures. Combinations a
variant cannot run are listed with the capability error instead of a number.

Training-MAC convention (documented, approximate): ``train_macs = 3 × (MACs_G + MACs_D) ×
images_seen``, i.e. each image seen costs one forward and one backward (≈ 2 forwards) of G and
of D. The factor 3 is exact for matrix products (FlopCounterMode measures forward + backward =
3.00 × forward for Lada and dense attention). It under-counts a real GAN step, where D also
sees the fakes (≈ 9 × MACs_D per real image with a D step and a G step), the G forward is
repeated in the D step, and R1 adds a double backward: the figure is for comparing runs on a
cost axis, not for billing.
"""
from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator

import pandas as pd
import torch
from torch import nn

from ladabench.attention import TokenAttention, get_attention, list_attentions
from ladabench.core.errors import CapabilityError, ConfigError
from ladabench.measure.flops import CONVENTION, count_flops, count_params
from ladabench.config.model import ModelConfig
from ladabench.models.factory import build_discriminator, build_generator
from ladabench.models.presets import get_preset, list_presets

#: forward + backward ≈ 3 forwards (see the module docstring)
TRAIN_MAC_FACTOR = 3
TRAIN_MACS_CONVENTION = "3 x (MACs_G + MACs_D) per image seen (one forward + backward of each, one image)"


def training_macs(g_macs: int, d_macs: int, images_seen: int, factor: int = TRAIN_MAC_FACTOR) -> int:
    """Estimated training MACs after ``images_seen`` real images (see the module convention)."""
    if min(g_macs, d_macs, images_seen) < 0:
        raise ValueError(f"MACs and images must be non-negative, got {g_macs}, {d_macs}, {images_seen}")
    return int(factor) * (int(g_macs) + int(d_macs)) * int(images_seen)


def run_costs(generator: nn.Module, discriminator: nn.Module, noise_dim: int, resolution: int) -> dict:
    """``{"params": {"G", "D"}, "macs": {"G", "D"}, "convention"}``: one forward of ONE image
    (batch 1), the LadaGAN "FLOPs" convention, on the models' own device."""
    device = next(generator.parameters()).device
    g = count_flops(generator, torch.zeros(1, noise_dim, device=device))
    d = count_flops(discriminator, torch.zeros(1, 3, resolution, resolution, device=device))
    return {"params": {"G": g.params, "D": d.params}, "macs": {"G": g.macs, "D": d.macs},
            "convention": {"macs": CONVENTION, "train_macs": TRAIN_MACS_CONVENTION}}


SCOPE = "one forward of one image (batch 1, eval mode); #params = trainable parameters"
FORMATS = ("table", "csv", "json")
#: the default table's width in characters (the wide table has every column)
NARROW_WIDTH = 100


@dataclass(frozen=True)
class CostRow:
    """Cost of one model (``G`` or ``D``) of one preset with one attention variant.

    ``module`` is ``"total"`` for the whole model or a ``block_groups()`` name; ``bn_stats``
    counts BatchNorm running statistics (non-trainable); ``skipped`` lists the ops that
    counted 0 (not matrix products) with their number of calls; ``macs_paper`` = ``macs`` plus
    the attention layers' element-wise products (the published convention); ``error`` is the capability
    error when the combination cannot be built (numbers are then None).
    """

    preset: str
    attention: str
    model: str
    module: str = "total"
    params: int | None = None
    bn_stats: int | None = None
    macs: int | None = None
    macs_paper: int | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def _bn_stats(module: nn.Module) -> int:
    stats = ("running_mean", "running_var")
    return sum(b.numel() for name, b in module.named_buffers() if name.endswith(stats))


def _elementwise(module: nn.Module) -> int:
    """Element-wise attention products of one forward of one image below ``module``."""
    return sum(m.elementwise_macs(1) for m in module.modules() if isinstance(m, TokenAttention))


def _model_rows(key: tuple[str, str, str], model: nn.Module, x: torch.Tensor,
                by_module: bool) -> list[CostRow]:
    report = count_flops(model, x)
    skipped = {op.removeprefix("aten::"): n for op, n in report.unsupported.items()}
    rows = [CostRow(*key, params=report.params, bn_stats=_bn_stats(model), macs=report.macs,
                    macs_paper=report.macs + _elementwise(model), skipped=skipped)]
    if by_module:
        paths = {id(m): name for name, m in model.named_modules()}
        for group, module in model.block_groups().items():
            rows.append(CostRow(*key, module=group, params=count_params(module),
                                bn_stats=_bn_stats(module),
                                macs=(m := report.by_module.get(paths[id(module)], 0)),
                                macs_paper=m + _elementwise(module)))
    return rows


def _variant_rows(preset: str, attention: str, by_module: bool) -> list[CostRow]:
    cfg = ModelConfig(preset=preset, g_attention=attention, d_attention=attention)
    rows: list[CostRow] = []
    try:
        g = build_generator(cfg)
    except CapabilityError as e:
        rows.append(CostRow(preset, attention, "G", error=str(e)))
    else:
        rows += _model_rows((preset, attention, "G"), g, torch.randn(1, g.noise_dim), by_module)
    try:
        d = build_discriminator(cfg)
    except CapabilityError as e:
        rows.append(CostRow(preset, attention, "D", error=str(e)))
    else:
        img = torch.randn(1, 3, d.resolution, d.resolution)
        rows += _model_rows((preset, attention, "D"), d, img, by_module)
    return rows


def table_names(presets: list[str] | None = None,
                attentions: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The presets and attention variants of a table (all registered ones by default); unknown
    names raise RegistryError."""
    presets = presets or list_presets()
    attentions = attentions or list_attentions()
    for p in presets:
        get_preset(p)
    for a in attentions:
        get_attention(a)
    return presets, attentions


def iter_cost_rows(presets: list[str], attentions: list[str],
                   by_module: bool = False) -> Iterator[CostRow]:
    """The rows of every preset × attention, G then D, each variant's as soon as it is counted."""
    torch.manual_seed(0)  # the counts do not depend on the weights; keep runs reproducible
    for p in presets:
        for a in attentions:
            yield from _variant_rows(p, a, by_module)


def cost_table(presets: list[str] | None = None, attentions: list[str] | None = None,
               by_module: bool = False) -> list[CostRow]:
    """Rows for every preset × attention (all registered ones by default), G then D.
    Unknown names raise RegistryError before anything is built."""
    return list(iter_cost_rows(*table_names(presets, attentions), by_module))


def narrow_lines(rows: Iterable[CostRow], presets: list[str], attentions: list[str],
                 by_module: bool = False, width: int = NARROW_WIDTH) -> Iterator[str]:
    """The table as lines of at most ``width`` characters, each yielded as soon as its row is:
    params and GMACs (one decimal more than published); the exact MACs, BatchNorm statistics
    and skipped ops are in the wide table, CSV and JSON. An error is cut to fit."""
    cols = [("preset", max(map(len, [*presets, "preset"])), "<"),
            ("attention", max(map(len, [*attentions, "attention"])), "<"), ("model", 5, "<")]
    cols += [("module", 16, "<")] * by_module
    cols += [("params", 11, ">"), ("GMACs", 7, ">"), ("GMACs paper", 11, ">")]

    def line(values: list[str], note: str) -> str:
        text = "  ".join(f"{v[:w]:{a}{w}}" for v, (_, w, a) in zip(values, cols))
        return f"{text}  {note}"[:width].rstrip()

    yield line([c[0] for c in cols], "note")
    for r in rows:
        values = [r.preset, r.attention, r.model] + [r.module] * by_module
        numbers = ["-"] * 3 if r.error else [f"{r.params:,}", f"{r.macs / 1e9:.3f}",
                                              f"{r.macs_paper / 1e9:.3f}"]
        yield line(values + numbers, r.error or "")


def _frame(rows: list[CostRow]) -> pd.DataFrame:
    df = pd.DataFrame([asdict(r) for r in rows])
    df["skipped"] = df["skipped"].map(lambda d: " ".join(f"{k}x{v}" for k, v in d.items()))
    df["error"] = df["error"].fillna("")
    return df


def _giga(v) -> str:
    return "-" if pd.isna(v) else f"{v / 1e9:.3f} G"


def _table(df: pd.DataFrame) -> str:
    def fmt_int(v) -> str:
        return "-" if pd.isna(v) else f"{int(v):,}"

    out = pd.DataFrame({
        "preset": df["preset"], "attention": df["attention"], "model": df["model"],
        "module": df["module"], "params": df["params"].map(fmt_int),
        "bn_stats": df["bn_stats"].map(fmt_int), "MACs": df["macs"].map(fmt_int),
        "GMACs": df["macs"].map(_giga),
        "GMACs paper": df["macs_paper"].map(_giga),
        "skipped ops (0 MACs) / error": [e or s for e, s in zip(df["error"], df["skipped"])],
    })
    return out.to_string(index=False)


def table_header(width: int | None = None) -> str:
    """The ``#`` lines above a table or CSV: the counting convention and scope, each wrapped at
    ``width`` characters when given (the narrow table's)."""
    notes = [f"MACs: {CONVENTION}", "MACs paper: MACs + element-wise attention products (e.g. "
             "Lada's g*K*V), the published LadaGAN figures", f"scope: {SCOPE}"]
    if width is None:
        return "".join(f"# {note}\n" for note in notes)
    return "".join(textwrap.fill(note, width, initial_indent="# ", subsequent_indent="#   ",
                                 break_on_hyphens=False) + "\n" for note in notes)


def format_costs(rows: list[CostRow], fmt: str = "table") -> str:
    """Render rows as an aligned table, CSV (convention in ``#`` comment lines; read with
    ``pandas.read_csv(..., comment="#")``) or JSON (``{"convention", "scope", "rows"}``)."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "json":
        return json.dumps({"convention": CONVENTION, "scope": SCOPE,
                           "rows": [asdict(r) for r in rows]}, indent=2)
    header = table_header()
    if fmt == "csv":
        return header + _frame(rows).to_csv(index=False)
    return header + _table(_frame(rows)) + "\n"
