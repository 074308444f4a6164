"""Regression gate: compare finished runs against a committed baseline (architecture.md contract 5).

A baseline (``baselines/regression/NAME.yaml``) holds, per run name, the metric values over the
seeds it was measured with, their protocols, the throughput, and per-metric tolerances that the
file justifies with the measured seed-to-seed spread. ``check_results`` returns one row per
compared quantity and an exit code: 0 pass, 1 regression, 2 cannot compare (missing or
unfinished runs, protocol mismatch, different device class). 2 wins over 1: when part of the
comparison is invalid, the gate as a whole cannot vouch for anything.

Throughput is compared as ``img_per_s / reference_per_s``, where the reference (a fixed fp32
matmul, :func:`measure_reference`) is timed in the same job, so a slower or busier machine of the
same device class does not fail the gate; a different device class is "cannot compare".
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import re
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from pydantic import Field, model_validator

from ladabench.errors import DataError
from ladabench.io import write_yaml
from ladabench.results import NON_EXPERIMENT_KEYS, SEED_TOKEN, find_run_dirs, flatten, load_run
from ladabench.schema import StrictModel, load_yaml, parse_model

PASS, REGRESSION, CANNOT_COMPARE = 0, 1, 2
#: side of the fixed fp32 matmul timed as the throughput reference (here and in benchmarks/)
REFERENCE_SIZE = 128
REFERENCE_NAME = f"matmul-fp32-{REFERENCE_SIZE}"
#: protocol keys that may differ between comparable values (contract 4)
_PROTOCOL_FREE_KEYS = ("library",)


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
    metrics: dict[str, MetricRef]
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
    runs: dict[str, RunRef]
    provenance: dict[str, Any]


@dataclass(frozen=True)
class Row:
    """One compared quantity. ``verdict`` is one of PASS, REGRESSION, CANNOT_COMPARE."""

    run: str
    quantity: str
    baseline: float | None
    current: float | None
    limit: str
    verdict: int
    note: str = ""


def device_class(device: str, device_name: str) -> str:
    """``cpu`` for any CPU, else ``<type>:<model>`` (``cuda:NVIDIA H100 80GB HBM3``): throughput
    ratios transfer between CPUs of one job, not between a CPU and a GPU or two GPU models."""
    kind = device.split(":")[0].lower()
    return "cpu" if kind == "cpu" else f"{kind}:{device_name}"


def measure_reference(device: str = "cpu", size: int = REFERENCE_SIZE, rounds: int = 7) -> float:
    """Fixed fp32 ``(size, size) @ (size, size)`` matmuls per second on ``device``, median of
    ``rounds`` timed rounds (median, not min: it should see the same load the runs saw)."""
    import torch

    a = torch.randn(size, size, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    per_s = []
    for _ in range(rounds + 1):  # the first round warms up
        sync()
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 0.2:
            a @ a
            n += 1
        sync()
        per_s.append(n / (time.perf_counter() - t0))
    return statistics.median(per_s[1:])


def load_baseline(path: str | Path) -> Baseline:
    return parse_model(Baseline, load_yaml(path), str(path))


def _protocol_key(protocol: dict) -> dict:
    return {k: v for k, v in protocol.items() if k not in _PROTOCOL_FREE_KEYS}


def _group(runs: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in runs:
        groups.setdefault(r["name"], []).append(r)
    return groups


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) > 16 else text


def differences(baseline: dict, current: dict, ignore: tuple[str, ...] = (),
                default: dict | None = None) -> list[str]:
    """``key (baseline X, current Y)`` for every key whose values differ; a key that one side
    lacks counts as ``default``'s value there (settings added to the schema after the baseline)."""
    default = default or {}
    out = []
    for k in sorted(set(baseline) | set(current)):
        a, b = baseline.get(k, default.get(k)), current.get(k, default.get(k))
        if k not in ignore and a != b:
            out.append(f"{k} (baseline {_short(a)}, current {_short(b)})")
    return out


def experiment_config(config: dict) -> dict[str, Any]:
    """The flattened settings that define an experiment (seed, names, machine keys dropped)."""
    return {k: v for k, v in flatten(config).items() if k not in NON_EXPERIMENT_KEYS}


def _config_row(name: str, ref: RunRef, runs: list[dict]) -> Row | None:
    """CANNOT_COMPARE when a run's settings differ from the baseline's."""
    from ladabench.config import RunConfig

    default = experiment_config(RunConfig().to_dict())
    for r in runs:
        diff = differences(ref.config, r["config"], default=default)
        if diff:
            return Row(name, "config", None, None, "", CANNOT_COMPARE,
                       f"seed {r['seed']}: config differs in {'; '.join(diff)}")
    return None


def _metric_rows(name: str, ref: RunRef, runs: list[dict], base: Baseline) -> list[Row]:
    rows = []
    for metric, mref in ref.metrics.items():
        found = [r["final"].get(metric) for r in runs]
        if any(f is None for f in found):
            rows.append(Row(name, metric, mref.value, None, "", CANNOT_COMPARE, "metric missing"))
            continue
        bad = [f["protocol"] for f in found if _protocol_key(f["protocol"]) != _protocol_key(mref.protocol)]
        if bad:
            diff = differences(mref.protocol, bad[0], ignore=_PROTOCOL_FREE_KEYS)
            rows.append(Row(name, metric, mref.value, None, "", CANNOT_COMPARE,
                            f"protocol differs in {'; '.join(diff)}"))
            continue
        current = statistics.fmean(f["value"] for f in found)
        tol = base.tolerances.get(metric)
        if tol is None:
            rows.append(Row(name, metric, mref.value, current, "", CANNOT_COMPARE,
                            f"no tolerance for {metric!r} in the baseline"))
            continue
        limit = mref.value + tol.allowed(mref.value)
        ok = math.isfinite(current) and current <= limit
        rows.append(Row(name, metric, mref.value, current, f"<= {limit:.4g}",
                        PASS if ok else REGRESSION,
                        f"mean of {len(found)} seed(s); baseline {len(ref.seeds)}"))
    return rows


def _throughput_row(name: str, ref: RunRef, runs: list[dict], base: Baseline,
                    reference_per_s: float) -> Row:
    current = statistics.fmean(r["img_per_s"] for r in runs)
    ratio = (current / reference_per_s) / (ref.img_per_s / base.reference.per_s)
    ok = ratio >= base.throughput.min_ratio
    return Row(name, "img_per_s", ref.img_per_s, current,
               f"ratio >= {base.throughput.min_ratio:.2f}", PASS if ok else REGRESSION,
               f"normalised ratio {ratio:.2f} (reference {reference_per_s:.4g}/s vs "
               f"{base.reference.per_s:.4g}/s)")


def compare(runs: list[dict], base: Baseline, reference_per_s: float) -> list[Row]:
    """Rows for every baseline run; ``runs`` are :func:`ladabench.results.load_runs` records."""
    groups = _group(runs)
    if base.reference.name != REFERENCE_NAME:
        return [Row("*", "reference", None, None, "", CANNOT_COMPARE,
                    f"baseline reference {base.reference.name} != {REFERENCE_NAME}; re-run --update")]
    rows = []
    for name, ref in base.runs.items():
        found = groups.get(name, [])
        unfinished = [r for r in found if r["status"] not in ("finished", "diverged")]
        if not found or unfinished:
            bad = unfinished[0] if unfinished else None
            what = ("no run" if bad is None else
                    f"status {bad['status']}" + (f" ({bad['problem']})" if bad["problem"] else ""))
            rows.append(Row(name, "run", None, None, "", CANNOT_COMPARE, f"{what} in results"))
            continue
        classes = sorted({r["device"] for r in found})
        if classes != [base.device_class]:
            rows.append(Row(name, "device", None, None, "", CANNOT_COMPARE,
                            f"device class {', '.join(classes)} != baseline {base.device_class}"))
            continue
        config_row = _config_row(name, ref, found)
        if config_row is not None:
            rows.append(config_row)
            continue
        diverged = [r for r in found if r["status"] == "diverged"]
        if diverged:
            rows.append(Row(name, "run", None, None, "finished", REGRESSION,
                            f"seed {diverged[0]['seed']} diverged"))
            continue
        rows += _metric_rows(name, ref, found, base)
        rows.append(_throughput_row(name, ref, found, base, reference_per_s))
    return rows


def exit_code(rows: list[Row]) -> int:
    verdicts = {r.verdict for r in rows}
    return CANNOT_COMPARE if CANNOT_COMPARE in verdicts else max(verdicts, default=PASS)


def verdict(rows: list[Row], results: str | Path, baseline: str | Path) -> str:
    """The last lines of a check: the verdict and, when the numbers cannot be compared, what
    differs and how to make a baseline for these settings."""
    code = exit_code(rows)
    if code != CANNOT_COMPARE:
        return "check passed" if code == PASS else "REGRESSION"
    changed = [r for r in rows if r.verdict == CANNOT_COMPARE
               and (r.quantity == "config" or r.note.startswith("protocol differs"))]
    lines = ["cannot compare"]
    if changed:
        lines.append("the results were measured differently from the baseline (see the notes); if "
                     "that change is intended, re-record the baseline with these settings:\n"
                     f"  ladabench check {results} --baseline {baseline} --update")
    return "\n".join(lines)


def format_table(rows: list[Row]) -> str:
    words = {PASS: "pass", REGRESSION: "REGRESSION", CANNOT_COMPARE: "CANNOT COMPARE"}
    fmt = lambda v: "-" if v is None else f"{v:.4g}"  # noqa: E731
    table = [("run", "quantity", "baseline", "current", "limit", "verdict", "note")]
    table += [(r.run, r.quantity, fmt(r.baseline), fmt(r.current), r.limit or "-",
               words[r.verdict], r.note) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in table)


def load_runs(results: str | Path) -> list[dict]:
    """One record per run dir under ``results`` (read by :mod:`ladabench.results`): the group
    name (run name without its ``seed<N>`` token), seed, status, config hash, device class,
    ``final`` metrics (contract 3), img/s, commit, versions and any problem reading it."""
    dirs = find_run_dirs(results)
    if not dirs:
        raise DataError(f"{results}: no run directories")
    return [_record(load_run(d)) for d in dirs]


def _record(run) -> dict:
    cfg, s, prov = run.config, run.summary, run.provenance
    name = re.sub(SEED_TOKEN, "", str(cfg.get("name", run.run_dir.name))).strip("-")
    git = prov.get("git") or {}
    return {"name": name or str(cfg.get("suite")), "seed": (cfg.get("train") or {}).get("seed"),
            "status": run.status, "problem": "; ".join(run.problems),
            "config_hash": s.get("config_hash"), "config": experiment_config(cfg),
            "device": device_class(str(prov.get("device", "")), str(prov.get("device_name", ""))),
            "device_name": prov.get("device_name"),
            "final": s.get("final") or {}, "img_per_s": s.get("img_per_s"),
            "commit": git.get("commit"), "dirty": git.get("dirty"),
            "versions": prov.get("packages") or {}}


def _runs_device(runs: list[dict]) -> str:
    """The torch device string to time the reference on (the runs' device)."""
    return next((r["device"].split(":")[0] for r in runs if r["device"] != "cpu"), "cpu")


def check_results(results: str | Path, baseline: str | Path,
                  reference: Callable[[str], float] | None = None) -> tuple[list[Row], int]:
    """Compare the runs under ``results`` with ``baseline``; ``reference(device)`` is timed here,
    in the same job, on the device the runs used."""
    base = load_baseline(baseline)
    runs = load_runs(results)
    rows = compare(runs, base, (reference or measure_reference)(_runs_device(runs)))
    return rows, exit_code(rows)


def _spread(values: list[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None


def _metric_ref(name: str, metric: str, runs: list[dict]) -> MetricRef:
    found = [r["final"].get(metric) for r in runs]
    if any(f is None for f in found):
        raise DataError(f"run {name!r}: metric {metric!r} missing in some seeds")
    protocols = {json.dumps(_protocol_key(f["protocol"]), sort_keys=True) for f in found}
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


def build_baseline(runs: list[dict], suite: str, reference_per_s: float,
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
    for name, group in sorted(_group(runs).items()):
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
    return Baseline(suite=suite, device_class=classes[0],
                    reference=Reference(name=REFERENCE_NAME, per_s=reference_per_s),
                    tolerances=tols, throughput=tput, runs=refs, provenance=provenance)


def update_baseline(results: str | Path, baseline: str | Path,
                    reference: Callable[[str], float] | None = None) -> Baseline:
    """Write ``baseline`` (atomically) from the finished runs under ``results``."""
    runs = load_runs(results)
    old = load_baseline(baseline) if Path(baseline).exists() else None
    new = build_baseline(runs, Path(results).name,
                         (reference or measure_reference)(_runs_device(runs)), old)
    write_yaml(baseline, new.model_dump(mode="json"))
    return new
