"""Attention scaling curves of the report: time, memory and MACs against the token count N
(log-log), with fitted exponents and the crossovers with the quadratic baseline.

Input: every ``scaling*.csv`` under the results folder, written by ``ladabench bench --scaling``
(``ladabench.measure.scaling``), one row per (variant, scope, N) with the columns of
``MEASURES``. Exponents and crossovers follow the one rule of ``ladabench.results.scaling``,
the same the sweep writes into ``scaling.json``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ladabench.core.errors import DataError
from ladabench.report.figures import Figure, png_uri
from ladabench.results.scaling import fit_curve

#: measure column → axis label
MEASURES = {"time_ms": "time (ms)", "peak_memory_bytes": "peak memory (bytes)", "macs": "MACs"}
TOKENS, VARIANT, SCOPE = "tokens", "variant", "scope"


@dataclass
class Fit:
    scope: str
    variant: str
    measure: str
    exponent: float
    crossover_tokens: int | None


def load_scaling(roots: list[Path]) -> pd.DataFrame:
    """All scaling CSVs under ``roots`` (empty frame if none); a CSV without ``variant`` and
    ``tokens`` columns is a DataError naming the file."""
    frames = []
    for root in roots:
        for path in sorted(Path(root).rglob("scaling*.csv")):
            df = pd.read_csv(path)
            missing = [c for c in (VARIANT, TOKENS) if c not in df]
            if missing:
                raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected "
                                f"{VARIANT}, {TOKENS} and any of {', '.join(MEASURES)}")
            if SCOPE not in df:
                df[SCOPE] = "layer"
            frames.append(df)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def fits(df: pd.DataFrame) -> list[Fit]:
    """Exponent and crossover of every (scope, variant, measure) with at least two points."""
    out = []
    for (scope, variant), g in df.groupby([SCOPE, VARIANT], sort=True):
        for measure in (m for m in MEASURES if m in g and g[m].notna().sum() >= 2):
            exp, cross = fit_curve(df, variant, scope, measure)
            if exp is not None:
                out.append(Fit(str(scope), str(variant), measure, exp, cross))
    return out


def scaling_figures(df: pd.DataFrame) -> list[Figure]:
    """One row of log-log panels (one per measure) per scope."""
    figs = []
    measures = [m for m in MEASURES if m in df]
    for scope, g in df.groupby(SCOPE, sort=True):
        fig, axes = plt.subplots(1, len(measures), figsize=(4.2 * len(measures), 3.6),
                                 squeeze=False)
        for ax, measure in zip(axes[0], measures):
            sns.lineplot(data=g, x=TOKENS, y=measure, hue=VARIANT, marker="o", ax=ax,
                         errorbar=None, legend=ax is axes[0, 0])
            ax.set(xscale="log", yscale="log", xlabel="tokens N", ylabel=MEASURES[measure])
        figs.append(Figure(f"Attention scaling · {scope}", png_uri(fig),
                           "Log-log; exponents and crossovers in the table below."))
    return figs
