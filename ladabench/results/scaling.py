"""How an attention scaling sweep is summarised: the fitted exponent of a measure against the
token count N and the crossover with the quadratic baseline. One rule, used by the sweep
(``scaling.json``, ``ladabench.measure.scaling``) and by the report, so the two cannot disagree:

- only points measured (``status == "ok"`` when the column exists) with N ≥ ``FIT_FROM``
  enter a fit (small N is dominated by fixed overheads); fewer than two → no exponent;
- the exponent is the least-squares slope of log(value) on log(N);
- the crossover is the smallest N from which the variant stays strictly below the baseline at
  every larger N both measured (None if it is not below at the largest common N).
Torch-free.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: exponents are fitted from this token count up
FIT_FROM = 1024
#: the quadratic baseline crossovers are measured against (attention registry name)
BASELINE = "dot_product"
#: the measure ``scaling.json``'s summary and the CLI report
TIME = "time_ms"


def log_slope(tokens: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of log(values) on log(tokens): the exponent of values ∝ N^e."""
    return float(np.polyfit(np.log(tokens), np.log(values), 1)[0])


def crossover(curve: pd.Series, reference: pd.Series) -> int | None:
    """Smallest N from which ``curve`` stays strictly below ``reference`` at every larger N both
    measured; both are indexed by N. None if ``curve`` is not below at the largest common N."""
    both = pd.concat([curve, reference], axis=1, keys=["v", "ref"]).dropna().sort_index()
    below = (both["v"] < both["ref"]).to_numpy()
    if not len(below) or not below[-1]:
        return None
    first = len(below) - int(np.argmin(below[::-1])) if not below.all() else 0
    return int(both.index[first])


def measured(df: pd.DataFrame, measure: str) -> pd.Series:
    """The curve of ``measure`` over N (mean per N) from the measured points of ``df``."""
    ok = df[df["status"] == "ok"] if "status" in df else df
    return ok.groupby("tokens")[measure].mean().dropna().sort_index()


def exponent(curve: pd.Series) -> float | None:
    """Fitted exponent of a curve indexed by N (None with fewer than two points N ≥ FIT_FROM)."""
    fit = curve[curve.index >= FIT_FROM]
    if len(fit) < 2:
        return None
    return log_slope(fit.index.to_numpy(float), fit.to_numpy(float))


def fit_curve(df: pd.DataFrame, variant: str, scope: str, measure: str) -> tuple[float | None, int | None]:
    """``(exponent, crossover vs BASELINE)`` of one variant's curve of ``measure`` in ``scope``
    (crossover None for the baseline itself or when the baseline was not measured)."""
    in_scope = df[df["scope"] == scope]
    curve = measured(in_scope[in_scope["variant"] == variant], measure)
    ref = measured(in_scope[in_scope["variant"] == BASELINE], measure)
    cross = None if variant == BASELINE or ref.empty else crossover(curve, ref)
    return exponent(curve), cross


def summarize(df: pd.DataFrame) -> dict:
    """``{scope: {variant: {"exponent", "crossover_vs_<BASELINE>", "skipped"}}}`` of the time
    measure (``skipped``: the N not measured)."""
    out: dict[str, dict] = {}
    for (scope, variant), g in df.groupby(["scope", "variant"], sort=True):
        exp, cross = fit_curve(df, variant, scope, TIME)
        skipped = g.loc[g["status"] != "ok", "tokens"] if "status" in g else []
        out.setdefault(scope, {})[variant] = {
            "exponent": exp, f"crossover_vs_{BASELINE}": cross,
            "skipped": [int(n) for n in skipped],
        }
    return out


def format_summary(summary: dict) -> str:
    """Plain-text table of exponents and crossovers (for the CLI)."""
    key = f"crossover_vs_{BASELINE}"
    lines = [f"time exponent (log-log slope, N >= {FIT_FROM}) and crossover N vs {BASELINE}"]
    for scope, variants in summary.items():
        for variant, s in variants.items():
            exp = "n/a" if s["exponent"] is None else f"{s['exponent']:.2f}"
            cross = "-" if variant == BASELINE or BASELINE not in variants else (s[key] or "never")
            skipped = f"  skipped N: {s['skipped']}" if s["skipped"] else ""
            lines.append(f"  {scope:>5} {variant:>12}: exponent {exp:>5}  crossover {cross}{skipped}")
    return "\n".join(lines)
