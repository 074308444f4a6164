"""The two numbers a scaling sweep is summarised by, shared by the sweep itself
(``ladabench.metrics.scaling``) and the report (``ladabench.report.scaling``); torch-free."""
from __future__ import annotations

import numpy as np
import pandas as pd

#: exponents are fitted from this token count up (small N is dominated by fixed overheads)
FIT_FROM = 1024
#: the quadratic baseline crossovers are measured against (attention registry name)
BASELINE = "dot_product"


def log_slope(tokens: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope of log(values) on log(tokens): the exponent of values ∝ N^e."""
    return float(np.polyfit(np.log(tokens), np.log(values), 1)[0])


def crossover(curve: pd.Series, reference: pd.Series, strict: bool = False) -> int | None:
    """Smallest N from which ``curve`` stays below ``reference`` (``<``, or ``<=`` unless
    ``strict``) at every larger N both measured; both are indexed by N. None if ``curve`` is not
    below at the largest common N."""
    both = pd.concat([curve, reference], axis=1, keys=["v", "ref"]).dropna().sort_index()
    below = (both["v"] < both["ref"] if strict else both["v"] <= both["ref"]).to_numpy()
    if not len(below) or not below[-1]:
        return None
    first = len(below) - int(np.argmin(below[::-1])) if not below.all() else 0
    return int(both.index[first])
