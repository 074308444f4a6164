"""The regression gate: compare finished runs with a committed baseline
(``ladabench.results.baseline``). ``check_results`` returns one row per compared quantity and
an exit code: 0 pass, 1 regression, 2 cannot compare (missing or unfinished runs, protocol
mismatch, different device class). 2 wins over 1: when part of the comparison is invalid, the
gate as a whole cannot vouch for anything.

Throughput is compared as ``img_per_s / reference per_s``, where the reference (a fixed fp32
matmul, ``ladabench.measure.reference``) is timed by the caller in the same job, so a slower or
busier machine of the same device class does not fail the gate; a different device class is
"cannot compare". Torch-free: the caller passes the reference measurement.
"""
from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ladabench.config import RunConfig
from ladabench.core.errors import DataError
from ladabench.core.rundir import FINISHED
from ladabench.core.io import write_yaml
from ladabench.core.protocol import differing_keys
from ladabench.core.text import format_table
from ladabench.results.baseline import (
    Baseline, Reference, RunRef, build_baseline, group_by_name, load_baseline,
)
from ladabench.results.load import (NON_EXPERIMENT_KEYS, SEED_TOKEN, RunData, find_run_dirs,
                                    flatten, load_run)

PASS, REGRESSION, CANNOT_COMPARE = 0, 1, 2


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


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) > 16 else text


def _described(keys: list[str], baseline: dict, current: dict, default: dict | None = None) -> str:
    """``key (baseline X, current Y); …`` for ``keys``; a key one side lacks reads as ``default``'s
    value there (settings added to the schema after the baseline was recorded)."""
    default = default or {}
    return "; ".join(f"{k} (baseline {_short(baseline.get(k, default.get(k)))}, "
                     f"current {_short(current.get(k, default.get(k)))})" for k in keys)


def experiment_config(config: dict) -> dict[str, Any]:
    """The flattened settings that define an experiment (seed, names, machine keys dropped)."""
    return {k: v for k, v in flatten(config).items() if k not in NON_EXPERIMENT_KEYS}


def _config_row(name: str, ref: RunRef, runs: list[dict]) -> Row | None:
    """CANNOT_COMPARE when a run's settings differ from the baseline's."""
    default = experiment_config(RunConfig().to_dict())
    for r in runs:
        cur = r["config"]
        keys = sorted(k for k in set(ref.config) | set(cur)
                      if ref.config.get(k, default.get(k)) != cur.get(k, default.get(k)))
        if keys:
            return Row(name, "config", None, None, "", CANNOT_COMPARE,
                       f"seed {r['seed']}: config differs in "
                       f"{_described(keys, ref.config, cur, default)}")
    return None


def _metric_rows(name: str, ref: RunRef, runs: list[dict], base: Baseline) -> list[Row]:
    rows = []
    for metric, mref in ref.metrics.items():
        found = [r["final"].get(metric) for r in runs]
        if any(f is None for f in found):
            rows.append(Row(name, metric, mref.value, None, "", CANNOT_COMPARE, "metric missing"))
            continue
        bad = next((f["protocol"] for f in found
                    if differing_keys(f["protocol"], mref.protocol)), None)
        if bad is not None:
            keys = differing_keys(mref.protocol, bad)
            rows.append(Row(name, metric, mref.value, None, "", CANNOT_COMPARE,
                            f"protocol differs in {_described(keys, mref.protocol, bad)}"))
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
                    reference: Reference) -> Row:
    measured = [r["img_per_s"] for r in runs]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) and v > 0 for v in measured):
        return Row(name, "img_per_s", ref.img_per_s, None, "", CANNOT_COMPARE,
                   "img_per_s missing or not a finite positive number in a run's summary.json")
    current = statistics.fmean(measured)
    ratio = (current / reference.per_s) / (ref.img_per_s / base.reference.per_s)
    ok = ratio >= base.throughput.min_ratio
    return Row(name, "img_per_s", ref.img_per_s, current,
               f"ratio >= {base.throughput.min_ratio:.2f}", PASS if ok else REGRESSION,
               f"normalised ratio {ratio:.2f} (reference {reference.per_s:.4g}/s vs "
               f"{base.reference.per_s:.4g}/s)")


def compare(runs: list[dict], base: Baseline, reference: Reference) -> list[Row]:
    """Rows for every baseline run; ``runs`` are :func:`load_runs` records, ``reference`` the
    throughput reference measured now."""
    groups = group_by_name(runs)
    if base.reference.name != reference.name:
        return [Row("*", "reference", None, None, "", CANNOT_COMPARE,
                    f"baseline reference {base.reference.name} != {reference.name}; re-run --update")]
    rows = []
    for name, ref in base.runs.items():
        found = groups.get(name, [])
        unfinished = [r for r in found if r["status"] not in FINISHED]
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
        rows.append(_throughput_row(name, ref, found, base, reference))
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


def format_rows(rows: list[Row]) -> str:
    words = {PASS: "pass", REGRESSION: "REGRESSION", CANNOT_COMPARE: "CANNOT COMPARE"}
    fmt = lambda v: "-" if v is None else f"{v:.4g}"  # noqa: E731
    return format_table([
        {"run": r.run, "quantity": r.quantity, "baseline": fmt(r.baseline),
         "current": fmt(r.current), "limit": r.limit or "-", "verdict": words[r.verdict],
         "note": r.note} for r in rows])


def load_runs(results: str | Path) -> list[dict]:
    """One record per run dir under ``results`` (read by :mod:`ladabench.results.load`): the group
    name (run name without its ``seed<N>`` token), seed, status, config hash, device class,
    ``final`` metrics (contract 3), img/s, commit, versions and any problem reading it."""
    dirs = find_run_dirs(results)
    if not dirs:
        raise DataError(f"{results}: no run directories")
    return [_record(load_run(d)) for d in dirs]


def _record(run: RunData) -> dict:
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
                  reference: Callable[[str], Reference]) -> tuple[list[Row], int]:
    """Compare the runs under ``results`` with ``baseline``; ``reference(device)`` times the
    throughput reference here, in the same job, on the device the runs used."""
    base = load_baseline(baseline)
    runs = load_runs(results)
    rows = compare(runs, base, reference(_runs_device(runs)))
    return rows, exit_code(rows)


def update_baseline(results: str | Path, baseline: str | Path,
                    reference: Callable[[str], float] | None = None) -> Baseline:
    """Write ``baseline`` (atomically) from the finished runs under ``results``."""
    runs = load_runs(results)
    old = load_baseline(baseline) if Path(baseline).exists() else None
    new = build_baseline(runs, Path(results).name,
                         reference(_runs_device(runs)), old)
    write_yaml(baseline, new.model_dump(mode="json"))
    return new
