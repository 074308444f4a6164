"""Regression baselines (``baselines/regression/NAME.yaml``, docs/architecture.md contract 5):
their schema, and building one from finished runs.

A baseline holds, per run name, the metric values over the seeds it was measured with, their
protocols, the throughput, the throughput reference it was normalised by, and per-metric
tolerances that the file justifies with the measured spread.
"""
from __future__ import annotations

import datetime as _dt
import json
import platform
import statistics
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from ladabench.core.errors import DataError
from ladabench.core.protocol import comparable_part
from ladabench.core.schema import StrictModel, load_yaml, parse_model


class Tolerance(StrictModel):
    """Allowed increase of a lower-is-better metric: ``max(abs, rel × baseline)`` of those set."""

    abs: float | None = Field(default=None, ge=0)
    rel: float | None = Field(default=None, ge=0)
    #: why this tolerance: the measured seed-to-seed spread it was derived from
    basis: str

    @model_validator(mode="after")
    def _one_set(self) -> "Tolerance":
        if self.abs is None and self.rel is None:
            raise ValueError("set abs and/or rel")
        return self

    def allowed(self, baseline: float) -> float:
        return max(self.abs or 0.0, (self.rel or 0.0) * abs(baseline))


class ThroughputTolerance(StrictModel):
    #: fail when (img/s ÷ reference) falls below this fraction of the baseline's
    min_ratio: float = Field(gt=0, le=1)
    basis: str


class MetricRef(StrictModel):
    value: float
    values: list[float]
    std: float | None = None
    protocol: dict[str, Any]


class RunRef(StrictModel):
    config_hashes: list[str]
    #: the experiment's settings (flattened config without seed, names and machine keys): any
    #: difference changes the trained model, so the numbers are not comparable
    config: dict[str, Any]
    seeds: list[int]
    #: at least one: a run without a metric would make the gate pass without comparing
    metrics: dict[str, MetricRef] = Field(min_length=1)
    img_per_s: float = Field(gt=0)


class Reference(StrictModel):
    name: str
    per_s: float = Field(gt=0)


class Baseline(StrictModel):
    suite: str
    device_class: str
    reference: Reference
    tolerances: dict[str, Tolerance]
    throughput: ThroughputTolerance
    #: at least one: an empty baseline would make the gate pass without comparing
    runs: dict[str, RunRef] = Field(min_length=1)
    provenance: dict[str, Any]


def load_baseline(path: str | Path) -> Baseline:
    return parse_model(Baseline, load_yaml(path), str(path))


def group_by_name(runs: list[dict]) -> dict[str, list[dict]]:
    """Gate records (``ladabench.results.gate.load_runs``) by run name (all seeds together)."""
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(r["name"], []).append(r)
    return groups


def _spread(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None


def _metric_ref(name: str, metric: str, runs: list[dict]) -> MetricRef:
    found = [r["final"].get(metric) for r in runs]
    if any(f is None for f in found):
        raise DataError(f"run {name!r}: metric {metric!r} missing in some seeds")
    protocols = {json.dumps(comparable_part(f["protocol"]), sort_keys=True) for f in found}
    if len(protocols) > 1:
        raise DataError(f"run {name!r}: metric {metric!r} has different protocols across seeds")
    values = [float(f["value"]) for f in found]
    return MetricRef(value=statistics.fmean(values), values=values, std=_spread(values),
                     protocol=found[0]["protocol"])


def _default_tolerances(refs: dict[str, RunRef]) -> tuple[dict[str, Tolerance], ThroughputTolerance]:
    """3 × the largest seed-to-seed std of each metric (needs ≥ 2 seeds per run)."""
    tols = {}
    for metric in sorted({m for ref in refs.values() for m in ref.metrics}):
        stds = [ref.metrics[metric].std for ref in refs.values() if metric in ref.metrics]
        if any(s is None for s in stds):
            raise DataError(f"metric {metric!r}: a tolerance needs at least 2 seeds per run "
                            "(or an existing baseline whose tolerances are kept)")
        tols[metric] = Tolerance(abs=float(f"{3 * max(stds):.2g}"),
                                 basis=f"3 x largest seed-to-seed std ({max(stds):.3g})")
    return tols, ThroughputTolerance(min_ratio=0.5, basis="default; see the measured img/s spread")


def build_baseline(runs: list[dict], suite: str, reference: Reference,
                   old: Baseline | None = None) -> Baseline:
    """A baseline from finished ``runs`` (all seeds of each name); tolerances are kept from
    ``old`` when given, else derived from the seed-to-seed spread."""
    bad = [r for r in runs if r["status"] != "finished"]
    if bad:
        raise DataError(f"cannot update: run {bad[0]['name']!r} seed {bad[0]['seed']} is "
                        f"{bad[0]['status']}, not finished")
    classes = sorted({r["device"] for r in runs})
    if len(classes) != 1:
        raise DataError(f"cannot update: runs on several device classes ({', '.join(classes)})")
    refs = {}
    for name, group in sorted(group_by_name(runs).items()):
        metrics = sorted({m for r in group for m in r["final"]})
        configs = {json.dumps(r["config"], sort_keys=True, default=str) for r in group}
        if len(configs) > 1:
            raise DataError(f"cannot update: the seeds of run {name!r} differ in more than the seed")
        refs[name] = RunRef(config_hashes=sorted({r["config_hash"] for r in group}),
                            config=group[0]["config"], seeds=sorted(r["seed"] for r in group),
                            metrics={m: _metric_ref(name, m, group) for m in metrics},
                            img_per_s=statistics.fmean(r["img_per_s"] for r in group))
    tols, tput = (old.tolerances, old.throughput) if old else _default_tolerances(refs)
    provenance = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "commits": sorted({str(r["commit"]) for r in runs}),
        "dirty": any(bool(r["dirty"]) for r in runs),
        "versions": runs[0]["versions"], "python": platform.python_version(),
        "device": runs[0]["device_name"], "seeds": sorted({r["seed"] for r in runs}),
    }
    return Baseline(suite=suite, device_class=classes[0], reference=reference,
                    tolerances=tols, throughput=tput, runs=refs, provenance=provenance)
