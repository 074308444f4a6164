"""Is a variant's FID different from the reference variant's beyond seed noise?

For each FID column of a suite's results table (one protocol each) where at least two variants
have ≥ 3 finished seeds: the reference variant is the one with the lowest mean FID, and each
other variant gets the difference of means (variant − reference) with a 95 % Welch interval
(unequal variances, Welch–Satterthwaite degrees of freedom). An interval that contains 0 marks
the difference as within seed noise: a claim "the reference beats this variant" is then not
backed by these seeds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from ladabench.report.tables import MIN_SEEDS_FOR_CI, Stat, SuiteTable

LEVEL = 0.95
METHOD = "Welch t-interval (unequal variances), 95 %"


@dataclass(frozen=True)
class Difference:
    """``mean(variant) - mean(reference)`` of one metric column, with its interval."""

    column: str
    variant: str
    reference: str
    diff: float
    low: float
    high: float
    df: float
    n: int
    n_reference: int

    @property
    def within_noise(self) -> bool:
        return self.low <= 0.0 <= self.high


def welch_interval(a: Stat, b: Stat, level: float = LEVEL) -> tuple[float, float, float, float]:
    """(difference of means a − b, interval low, high, Welch–Satterthwaite df) from two
    samples' mean, sample std and size (each n ≥ 2)."""
    va, vb = a.std ** 2 / a.n, b.std ** 2 / b.n
    diff = a.mean - b.mean
    if va + vb == 0:
        return diff, diff, diff, math.inf
    df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * math.sqrt(va + vb)
    return diff, diff - half, diff + half, df


def fid_differences(table: SuiteTable) -> list[Difference]:
    """Every variant against the lowest-FID variant, per FID column with ≥ 2 seeded variants."""
    out = []
    for col in table.columns:
        if not col.key.startswith("final/fid@"):
            continue
        seeded = [(r["variant"], r["cells"][col.key].stat) for r in table.rows
                  if r["cells"][col.key].stat and r["cells"][col.key].stat.n >= MIN_SEEDS_FOR_CI]
        if len(seeded) < 2:
            continue
        ref_name, ref = min(seeded, key=lambda vs: vs[1].mean)
        for name, s in seeded:
            if name == ref_name:
                continue
            diff, low, high, df = welch_interval(s, ref)
            out.append(Difference(col.label, name, ref_name, diff, low, high, df, s.n, ref.n))
    return out
