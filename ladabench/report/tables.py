"""Numbers of the report: runs grouped into experiments (runs that differ only in ``train.seed``),
mean ± std over seeds with 95 % t-intervals from 3 seeds on, best per column.

Only ``finished`` runs enter the means; the other states are counted beside them. Metric columns
are keyed by (metric, protocol), so two protocols never share a column.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats

from ladabench.results import Results

#: seeds needed before a confidence interval is shown
MIN_SEEDS_FOR_CI = 3


@dataclass(frozen=True)
class Column:
    """One results-table column: ``source`` is a ``Results.runs`` column."""

    key: str
    label: str
    source: str
    fmt: str
    scale: float = 1.0
    #: True: lower is better, False: higher is better, None: no "best" mark (a budget)
    lower_is_better: bool | None = True
    #: False for quantities fixed by the config (params, MACs, schedule): no ± over seeds
    spread: bool = True


COST_COLUMNS = (
    Column("params_G", "params G (M)", "params_G", "{:.2f}", 1e-6, spread=False),
    Column("macs_G", "MACs G (G)", "macs_G", "{:.3f}", 1e-9, spread=False),
    Column("img_per_s", "train img/s (steady)", "img_per_s", "{:.1f}", 1.0, False),
    Column("peak_memory", "peak memory (GiB)", "peak_memory_bytes", "{:.2f}", 1 / 2**30),
    Column("images_seen", "images seen", "images_seen", "si", 1.0, None),
    Column("wall_time", "wall time", "wall_time_s", "duration", 1.0),
    Column("world_size", "processes", "world_size", "{:.0f}", 1.0, None, spread=False),
)
#: display of metric values: (label, format, scale); others use the metric name and 4 digits
METRIC_DISPLAY = {"fid": ("FID", "{:.2f}", 1.0), "kid": ("KID", "{:,.1f}", 1.0),
                  "is": ("IS", "{:.2f}", 1.0), "precision": ("precision", "{:.3f}", 1.0),
                  "recall": ("recall", "{:.3f}", 1.0), "modes": ("modes", "{:.0f}", 1.0)}
#: metrics where a larger value is better (the others: lower is better)
HIGHER_IS_BETTER = {"is", "precision", "recall", "modes"}
#: published KIDs (standard Inception protocol) are quoted ×10³
STANDARD_KID = ("KID ×10³", "{:.2f}", 1e3)
_SI = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def format_value(value: float, fmt: str) -> str:
    """``fmt.format(value)``; ``fmt == "si"``: three significant digits and a k/M/G suffix
    (96 → ``96``, 12,288 → ``12.3k``, 68,096,000 → ``68.1M``); ``"duration"``: seconds as
    ``42 s``, ``6.5 min`` or ``39.2 h``."""
    if fmt == "duration":
        if abs(value) < 120:
            return f"{value:.0f} s"
        return f"{value / 60:.1f} min" if abs(value) < 7200 else f"{value / 3600:.1f} h"
    if fmt != "si":
        return fmt.format(value)
    for factor, suffix in _SI:
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def metric_display(metric: str, protocol: dict) -> tuple[str, str, float]:
    """(label, format, scale) of a metric column: KID ×10³ only under the standard protocol
    (where KIDs are small and published that way); other extractors' KIDs as they are."""
    if metric == "kid" and protocol.get("standard"):
        return STANDARD_KID
    return METRIC_DISPLAY.get(metric, (metric, "{:.4g}", 1.0))


@dataclass
class Stat:
    """Mean, sample std, count and 95 % t-interval half-width (None below 3 values)."""

    mean: float
    std: float | None
    n: int
    ci: float | None

    @classmethod
    def of(cls, values: list[float]) -> "Stat | None":
        vals = [float(v) for v in values if v is not None and not pd.isna(v)]
        if not vals:
            return None
        n = len(vals)
        mean = sum(vals) / n
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (n - 1)) if n > 1 else None
        ci = None
        if n >= MIN_SEEDS_FOR_CI:
            ci = float(stats.t.ppf(0.975, n - 1)) * std / math.sqrt(n)
        return cls(mean, std, n, ci)


@dataclass
class Cell:
    text: str
    best: bool = False
    title: str = ""
    stat: Stat | None = None
    #: the 95 % interval's half-width as text ("" below 3 values or without a spread)
    ci: str = ""


@dataclass
class SuiteTable:
    suite: str
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)  # {"variant", "runs", "cells": {key: Cell}}


def protocol_ids(results: Results) -> dict[str, str]:
    """Protocol key → short label ``P1``, ``P2``, … (order of first use: final values first)."""
    rank = {"final": 0, "final_last": 1, "best": 2}
    m = results.metrics
    first = m["which"].map(lambda w: rank.get(w, 3)).argsort(kind="stable")
    order = list(m.iloc[first]["protocol"])
    order += list(results.evals["protocol"])
    ids: dict[str, str] = {}
    for key in order:
        ids.setdefault(key, f"P{len(ids) + 1}")
    return ids


#: images seen at the checkpoint the final values were scored from (best.pt or the last EMA)
SELECTED_IMAGES = Column("selected_images", "images at scored checkpoint",
                         "selected_images_seen", "si", 1.0, None)
#: metric columns of the results table: the selected checkpoint's values, then the last EMA
#: generator's where some run selected an earlier checkpoint (best.pt)
METRIC_SECTIONS = {"final": "", "final_last": " (last EMA)"}


def _selected_earlier(runs: pd.DataFrame) -> bool:
    """Some run's final values come from an earlier checkpoint than its last EMA generator."""
    if "selected_images_seen" not in runs:
        return False
    return bool((runs["selected_images_seen"] < runs["images_seen"]).any())


def metric_columns(runs: pd.DataFrame, pids: dict[str, str],
                   protocols: dict[str, dict]) -> list[Column]:
    """One column per (final metric, protocol) found among ``runs``; the same for the last EMA
    generator when some run's selected checkpoint is an earlier one."""
    cols = []
    sections = METRIC_SECTIONS if _selected_earlier(runs) else {"final": ""}
    metric_names = sorted({c.split("/")[1] for c in runs.columns
                           if c.startswith("final/") and c.count("/") == 1})
    if metric_names:
        cols.append(SELECTED_IMAGES)
    for which, suffix in sections.items():
        for metric in metric_names:
            if f"{which}/{metric}/protocol" not in runs:
                continue
            for key in sorted(runs[f"{which}/{metric}/protocol"].dropna().unique(), key=pids.get):
                label, fmt, scale = metric_display(metric, protocols.get(key, {}))
                cols.append(Column(f"{which}/{metric}@{key}", f"{label}{suffix} · {pids[key]}",
                                   f"{which}/{metric}", fmt, scale,
                                   metric not in HIGHER_IS_BETTER))
    return cols


def _values(runs: pd.DataFrame, col: Column) -> list:
    if col.source not in runs:
        return []
    if "@" in col.key:  # a metric column: only values measured with this column's protocol
        key = col.key.split("@", 1)[1]
        runs = runs[runs[f"{col.source}/protocol"] == key]
    return [v * col.scale for v in runs[col.source] if v is not None and not pd.isna(v)]


def format_stat(s: Stat | None, fmt: str, spread: bool = True) -> str:
    if s is None:
        return "—"
    text = format_value(s.mean, fmt)
    if spread and s.std is not None:
        text += " ± " + format_value(s.std, fmt)
    return text


def _stat_title(s: Stat | None, fmt: str) -> str:
    if s is None:
        return "no finished run"
    title = f"n = {s.n}"
    if s.ci is not None:
        title += (f"; 95 % CI [{format_value(s.mean - s.ci, fmt)}, "
                  f"{format_value(s.mean + s.ci, fmt)}]")
    return title


def runs_note(group: pd.DataFrame) -> str:
    """``3 seeds: 2 finished, 1 diverged``."""
    counts = group["status"].value_counts()
    parts = ", ".join(f"{n} {status}" for status, n in counts.items())
    return f"{len(group)} run{'s' if len(group) != 1 else ''}: {parts}"


def _mark_best(table: SuiteTable) -> None:
    for col in table.columns:
        if col.lower_is_better is None:
            continue
        cells = [r["cells"][col.key] for r in table.rows if r["cells"][col.key].stat]
        if len(cells) < 2:
            continue
        sign = 1 if col.lower_is_better else -1
        best = min(sign * c.stat.mean for c in cells)
        for c in cells:
            c.best = sign * c.stat.mean == best


def suite_tables(results: Results, pids: dict[str, str]) -> list[SuiteTable]:
    """One results table per suite; a row per experiment group, finished runs only."""
    runs = results.runs
    tables = []
    if runs.empty:
        return tables
    for suite, srun in runs.groupby("suite", sort=True):
        table = SuiteTable(str(suite),
                           metric_columns(srun, pids, results.protocols) + list(COST_COLUMNS))
        for _, group in srun.groupby("group", sort=False):
            finished = group[group["status"] == "finished"]
            cells = {}
            for col in table.columns:
                s = Stat.of(_values(finished, col))
                ci = format_value(s.ci, col.fmt) if col.spread and s and s.ci is not None else ""
                cells[col.key] = Cell(format_stat(s, col.fmt, col.spread),
                                      title=_stat_title(s, col.fmt), stat=s, ci=ci)
            seeds = sorted(int(x) for x in group["seed"].dropna().unique())
            table.rows.append({"variant": group["variant"].iloc[0], "seeds": len(seeds),
                               "seed_list": ", ".join(map(str, seeds)),
                               "runs": runs_note(group), "cells": cells})
        _mark_best(table)
        tables.append(table)
    return tables


def main_results_frame(tables: list[SuiteTable], with_ci: bool = True) -> pd.DataFrame:
    """The results tables as one text frame (the Markdown/LaTeX exports): ``mean ± std`` cells,
    the 95 % interval appended when there are ≥ 3 seeds, best cells marked by the caller."""
    rows = []
    for t in tables:
        for r in t.rows:
            row = {"suite": t.suite, "variant": r["variant"], "runs": r["runs"]}
            for col in t.columns:
                cell = r["cells"][col.key]
                text = cell.text
                if with_ci and col.spread and cell.stat is not None and cell.stat.ci is not None:
                    lo, hi = cell.stat.mean - cell.stat.ci, cell.stat.mean + cell.stat.ci
                    text += f" [{format_value(lo, col.fmt)}, {format_value(hi, col.fmt)}]"
                row[col.label] = text + (" *" if cell.best else "")
            rows.append(row)
    frame = pd.DataFrame(rows)
    cost = [c.label for c in COST_COLUMNS]
    # metric columns of every suite first, then the cost columns
    return frame[[c for c in frame.columns if c not in cost] + [c for c in cost if c in frame]]
