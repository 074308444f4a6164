"""Published numbers (``baselines/published/*.yaml``, architecture.md contract 5) and the
"paper vs ours" comparison.

A published FID is compared with our finished runs only when every protocol key the YAML states
equals ours (contract 4, ``library`` ignored); otherwise the cell is marked "protocol differs"
and shows which keys differ, without a Δ. Cost rows (params, MACs, images) follow the paper's
counting convention (docs/paper.md §12) and are always compared.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from ladabench.report.tables import Stat
from ladabench.results import Results
from ladabench.core.schema import StrictModel, load_yaml, parse_model


class PublishedValue(StrictModel):
    value: float | None = None
    display: str | None = None
    source: str | None = None
    note: str | None = None
    #: per-value protocol changes; a key set to null is unknown (not compared)
    protocol: dict[str, Any] = Field(default_factory=dict)


class PublishedModel(StrictModel):
    model: str
    #: config keys (flattened, e.g. ``model.preset``) that select our reproduction; none = not run
    match: dict[str, Any] = Field(default_factory=dict)
    values: dict[str, PublishedValue]


class PublishedTable(StrictModel):
    table: str
    source: str
    protocol: dict[str, Any]
    #: protocol keys that are ladabench's documented assumption, not the paper's statement
    assumed: list[str] = Field(default_factory=list)
    models: list[PublishedModel]


@dataclass(frozen=True)
class CostRow:
    label: str
    source: str  # a Results.runs column
    scale: float
    unit: str


#: rows that are not metrics: what ours is, in the paper's convention (docs/paper.md §12)
COST_ROWS = {
    "params": CostRow("#Params", "params_G", 1e-6, "M"),
    "macs": CostRow("FLOPs", "macs_G", 1e-9, "B"),
    "images": CostRow("#Images", "final/fid/images_seen", 1e-6, "M"),
}
TEXT_ROWS = {"gpus": ("GPUs", "prov.device_name")}
CONVENTIONS = ("#Params = generator only, trainable (the paper truncates to whole millions); "
               "FLOPs = MACs of one generator forward for one image (fvcore convention); "
               "#Images = real images shown to D up to the checkpoint whose FID is shown "
               "(the one the protocol selects: best.pt, the best in-training FID, else the last "
               "EMA generator).")


@dataclass
class Comparison:
    model: str
    row: str
    published: str
    ours: str = "—"
    delta: str = ""
    #: compared | protocol differs | shown | no matching run | not run (no reproduction)
    state: str = "not run"
    #: the value's protocol when it differs from the table's
    protocol: str = ""
    notes: list[int] = field(default_factory=list)


@dataclass
class PaperSection:
    table: str
    file: str
    source: str
    protocol: str
    rows: list[Comparison]
    footnotes: list[str]


def load_published(folder: str | Path) -> list[tuple[Path, PublishedTable]]:
    """Every ``*.yaml`` under ``folder`` (sorted), validated; bad files raise ConfigError(s)."""
    out = []
    for path in sorted(Path(folder).glob("*.yaml")):
        out.append((path, parse_model(PublishedTable, load_yaml(path), str(path))))
    return out


def protocol_text(protocol: dict, assumed: list[str] = ()) -> str:
    """``fid · inception-v3-compat · 50000 gen vs 50000 train · cifar10 32 px``."""
    p = protocol
    parts = [str(p[k]) for k in ("metric", "extractor") if p.get(k) is not None]
    if p.get("n_gen") is not None or p.get("n_real") is not None:
        parts.append(f"{p.get('n_gen', '?')} gen vs {p.get('n_real', '?')} "
                     f"{p.get('real_split', 'real')}")
    if p.get("dataset") is not None:
        parts.append(f"{p['dataset']} {p.get('resolution', '?')} px")
    if p.get("standard") is False:
        parts.append("non-standard extractor")
    text = " · ".join(parts)
    shown = [k for k in assumed if p.get(k) is not None]
    return text + (f" (assumed: {', '.join(shown)})" if shown else "")


def protocol_diff(published: dict, ours: dict) -> list[str]:
    """``key: ours ≠ published`` for every key the published protocol states."""
    return [f"{k}: {ours.get(k)} ≠ {v}" for k, v in published.items() if ours.get(k) != v]


def _matched(runs: pd.DataFrame, match: dict[str, Any]) -> pd.DataFrame:
    if runs.empty or not match:
        return runs.iloc[0:0]
    keep = pd.Series(True, index=runs.index)
    for key, want in match.items():
        col = runs.get(f"cfg.{key}")
        keep &= col.astype(str) == str(want) if col is not None else False
    return runs[keep]


def _metric_cell(c: Comparison, pub: float, stated: dict, metric: str, runs: pd.DataFrame,
                 results: Results) -> None:
    finished = runs[runs["status"] == "finished"]
    col = f"final/{metric}"
    if col not in finished or finished[col].dropna().empty:
        c.state = f"no finished run with a final {metric}"
        return
    diffs: list[str] = []
    by_protocol = finished.dropna(subset=[col]).groupby(f"{col}/protocol")
    for key, group in by_protocol:
        diff = protocol_diff(stated, results.protocols.get(key, {}))
        if not diff:
            s = Stat.of(list(group[col]))
            c.ours = f"{s.mean:.2f}" + (f" ± {s.std:.2f}" if s.std is not None else "")
            checkpoints = ", ".join(
                sorted(group["selected_checkpoint"].dropna().astype(str).unique()))
            c.ours += f" (n = {s.n}; {checkpoints or 'checkpoint unknown'})"
            c.delta, c.state = f"{s.mean - pub:+.2f}", "compared"
            return
        diffs.append(f"{group[col].mean():.2f} ({'; '.join(diff)})")
    c.ours, c.state = " | ".join(diffs), "protocol differs"


def _footnote(notes: list[str], text: str) -> int:
    if text not in notes:
        notes.append(text)
    return notes.index(text) + 1


def _comparison(table: PublishedTable, model: str, key: str, pv: PublishedValue,
                notes: list[str]) -> Comparison:
    label = COST_ROWS[key].label if key in COST_ROWS else TEXT_ROWS.get(key, (key.upper(),))[0]
    c = Comparison(model=model, row=label,
                   published=pv.display or (f"{pv.value:g}" if pv.value is not None else "—"))
    c.notes = [_footnote(notes, t) for t in (pv.source, pv.note) if t]
    if pv.protocol:
        c.protocol = protocol_text(_stated(table, pv), table.assumed)
    return c


def _stated(table: PublishedTable, pv: PublishedValue) -> dict[str, Any]:
    stated = {**table.protocol, **pv.protocol}
    return {k: v for k, v in stated.items() if v is not None}


def compare(table: PublishedTable, results: Results, path: Path | str = "") -> PaperSection:
    """One :class:`Comparison` per published value of ``table``, sources as footnotes."""
    notes: list[str] = []
    rows = []
    for m in table.models:
        runs = _matched(results.runs, m.match)
        for key, pv in m.values.items():
            c = _comparison(table, m.model, key, pv, notes)
            rows.append(c)
            if not m.match:
                continue
            c.state = "no matching run"
            if runs.empty:
                continue
            if key in COST_ROWS:
                _cost_cell(c, pv.value, COST_ROWS[key], runs)
            elif key in TEXT_ROWS and TEXT_ROWS[key][1] in runs:
                c.ours = ", ".join(sorted(runs[TEXT_ROWS[key][1]].dropna().astype(str).unique()))
                c.state = "shown"
            elif pv.value is not None:
                _metric_cell(c, pv.value, _stated(table, pv), key, runs, results)
    return PaperSection(table.table, str(path), table.source,
                        protocol_text(table.protocol, table.assumed), rows, notes)


def _cost_cell(c: Comparison, pub: float | None, row: CostRow, runs: pd.DataFrame) -> None:
    vals = runs[row.source].dropna() if row.source in runs else pd.Series(dtype=float)
    if vals.empty or pub is None:
        return
    ours = float(vals.mean()) * row.scale
    c.ours = f"{ours:.3g}{row.unit}"
    c.delta, c.state = f"{ours - pub * row.scale:+.3g}{row.unit}", "compared"
