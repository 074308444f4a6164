"""Attention scaling curves of the report: time, memory and MACs against the token count N
(log-log), with fitted exponents and the crossovers with the quadratic baseline.

Input: every ``scaling*.csv`` under the results folder, written by ``ladabench bench --scaling``
(``ladabench.metrics.scaling``), one row per (variant, scope, N) with the columns of
``MEASURES``. The exponent is the least-squares slope of log(value) on log(N) over N ≥
``FIT_FROM`` (all points when fewer than 3 are that large); a crossover is the smallest
measured N from which a variant stays at or below the reference on that measure.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ladabench.errors import DataError
from ladabench.report.figures import Figure, png_uri
from ladabench.scaling_fit import BASELINE, FIT_FROM, crossover, log_slope

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


def exponent(tokens: np.ndarray, values: np.ndarray) -> float:
    """Slope of log(values) against log(tokens), fitted over N ≥ FIT_FROM when possible."""
    keep = tokens >= FIT_FROM
    if keep.sum() < 3:
        keep = np.ones_like(tokens, dtype=bool)
    return log_slope(tokens[keep], values[keep])


def fits(df: pd.DataFrame) -> list[Fit]:
    out = []
    for (scope, variant), g in df.groupby([SCOPE, VARIANT], sort=True):
        g = g.groupby(TOKENS).mean(numeric_only=True).sort_index()
        ref = df[(df[SCOPE] == scope) & (df[VARIANT] == BASELINE)]
        ref = ref.groupby(TOKENS).mean(numeric_only=True)
        for measure in (m for m in MEASURES if m in g and g[m].notna().sum() >= 2):
            curve = g[measure].dropna()
            cross = None
            if variant != BASELINE and measure in ref:
                cross = crossover(curve, ref[measure])
            out.append(Fit(str(scope), str(variant), measure,
                           exponent(curve.index.to_numpy(float), curve.to_numpy(float)), cross))
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
