"""Run directories → pandas (docs/architecture.md, contracts 1–4), for the report and the gate.

Reads only ``config.yaml``, ``summary.json``, ``provenance.json`` and ``metrics.jsonl``: no model
loading and no torch import, so re-reading a results folder is fast. A run whose files are
missing or corrupt is still listed, with status ``corrupt`` (when ``summary.json`` cannot be
used) and its problems in the ``problem`` column; the other runs are unaffected.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import yaml

from ladabench.config import MACHINE_KEYS
from ladabench.core.errors import DataError, first_line
from ladabench.core.io import read_jsonl
from ladabench.core.protocol import protocol_id
from ladabench.core.rundir import RUN_FILES, STATUSES, RunDir, effective_status
from ladabench.core.schema import parse_yaml

#: status of a run whose summary.json is missing (after it started) or unreadable
CORRUPT = "corrupt"
#: config keys that do not define the experiment: runs differing only here form one group
NON_EXPERIMENT_KEYS = {"name", "suite", "train.seed", *(".".join(k) for k in MACHINE_KEYS)}
SEED_TOKEN = r"(^|-)seed\d+(?=-|$)"
#: summary.json metric sections (contract 3): the selected checkpoint's final values, the last
#: EMA generator's, and the best in-training ones
SUMMARY_METRICS = ("final", "final_last", "best")
SUMMARY_SCALARS = ("step", "images_seen", "wall_time_s", "train_macs_total", "img_per_s",
                   "peak_memory_bytes", "error", "config_hash", "train_seconds",
                   "train_cpu_seconds", "stopped_by")


@dataclass
class RunData:
    """The raw, parsed files of one run directory and what was wrong with them."""

    run_dir: Path
    summary: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    status: str = "pending"


@dataclass
class Results:
    """Everything the report needs, as data frames keyed by ``run_id``.

    ``runs``: one row per run; ``metrics``: metric values (long form, one row per run,
    ``which`` ∈ {final, final_last, best, scores} and metric, with the checkpoint scored);
    ``train``: the ``train`` lines of metrics.jsonl; ``evals``: the ``eval`` lines (long form,
    one row per metric); ``events``: the ``event`` lines; ``protocols``: protocol key →
    protocol dict.
    """

    roots: list[Path]
    runs: pd.DataFrame
    metrics: pd.DataFrame
    train: pd.DataFrame
    evals: pd.DataFrame
    events: pd.DataFrame
    protocols: dict[str, dict]


def flatten(d: dict, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` → ``{"a.b": 1}``; lists become JSON strings (hashable cells)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        elif isinstance(v, (list, tuple, dict)):
            out[key] = json.dumps(v, default=str)
        else:
            out[key] = v
    return out


def find_run_dirs(root: str | Path) -> list[Path]:
    """Run directories under ``root`` (``root`` itself, a suite folder or a folder of suites)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: results folder not found")
    if any((root / f).exists() for f in RUN_FILES):
        return [root]
    found: list[Path] = []
    for child in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found.extend(find_run_dirs(child))
    return found


def _read_mapping(path: Path, loader, problems: list[str], what: str) -> dict:
    try:
        data = loader(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (ValueError, yaml.YAMLError, UnicodeDecodeError) as e:
        problems.append(f"{path.name}: invalid {what} ({first_line(e)})")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path.name}: expected a mapping, got {type(data).__name__}")
        return {}
    return data


def _check_summary(summary: dict, problems: list[str]) -> bool:
    """True if ``summary`` follows contract 3 well enough to report its numbers."""
    if summary.get("status") not in STATUSES:
        problems.append(f"summary.json: status: expected one of {', '.join(STATUSES)}, "
                        f"got {summary.get('status')!r}")
        return False
    for which in SUMMARY_METRICS:
        for metric, entry in (summary.get(which) or {}).items():
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), (int, float)):
                problems.append(f"summary.json: {which}.{metric}.value: expected a number")
                return False
            if not isinstance(entry.get("protocol"), dict):
                problems.append(f"summary.json: {which}.{metric}.protocol: expected the "
                                "metric's protocol (a mapping)")
                return False
    return True


def drop_superseded(records: list[dict]) -> list[dict]:
    """Records without the ones a resume replayed: a run killed after its last checkpoint (step
    s) logged steps past s that the resumed run logs again after its ``resume`` event, so any
    earlier record with step > s is superseded (docs/architecture.md, contract 2)."""
    kept: list[dict] = []
    for r in records:
        if r.get("kind") == "event" and r.get("event") == "resume":
            s = r.get("step", 0)
            kept = [k for k in kept if not (isinstance(k.get("step"), int) and k["step"] > s)]
        kept.append(r)
    return kept


def load_run(run_dir: str | Path) -> RunData:
    """Parse one run directory; never raises for bad content (problems are collected)."""
    rd = RunDir(Path(run_dir))
    run = RunData(run_dir=rd.path)
    p = run.problems
    run.config = _read_mapping(rd.config, parse_yaml, p, "YAML")
    run.summary = _read_mapping(rd.summary, json.loads, p, "JSON")
    run.provenance = _read_mapping(rd.provenance, json.loads, p, "JSON")
    if rd.metrics.exists():
        try:
            records = [r for r in read_jsonl(rd.metrics) if isinstance(r, dict)]
            run.records = drop_superseded(records)
        except (ValueError, UnicodeDecodeError) as e:
            p.append(f"metrics.jsonl: invalid JSON line before the last ({e})")
    started = rd.metrics.exists() or rd.summary.exists()
    if not rd.config.exists():
        p.append("config.yaml: missing")
    if started and not rd.summary.exists():
        p.append("summary.json: missing")
    if run.summary and _check_summary(run.summary, p):
        run.status = effective_status(rd, run.summary["status"])
    elif started:
        run.status, run.summary = CORRUPT, {}
    if run.status != "pending" and not rd.provenance.exists():
        p.append("provenance.json: missing")
    return run


def _experiment_key(cfg_flat: dict[str, Any]) -> str:
    core = {k: v for k, v in cfg_flat.items() if k not in NON_EXPERIMENT_KEYS}
    return hashlib.sha256(json.dumps(core, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _count(spikes: Any) -> int | None:
    """``spikes`` of summary.json: a count (the trainer) or a list of spike records."""
    return len(spikes) if isinstance(spikes, list) else spikes


def _run_row(run: RunData) -> dict[str, Any]:
    s, cfg = run.summary, flatten(run.config)
    row: dict[str, Any] = {
        "run_id": s.get("run_id") or run.run_dir.name,
        "suite": s.get("suite") or cfg.get("suite") or run.run_dir.parent.name,
        "name": cfg.get("name", run.run_dir.name),
        "status": run.status,
        "problem": "; ".join(run.problems),
        "path": str(run.run_dir),
        "seed": cfg.get("train.seed"),
        "group": _experiment_key(cfg) if cfg else f"unconfigured:{run.run_dir}",
        "n_spikes": _count(s.get("spikes")),
        "diverged_at_images": (s.get("diverged_at") or {}).get("images_seen"),
        # processes that trained the run; summaries from before data-parallel runs: one
        "world_size": s.get("world_size", 1),
    }
    row.update({k: s.get(k) for k in SUMMARY_SCALARS})
    for part in ("params", "macs"):
        for net in ("G", "D"):
            row[f"{part}_{net}"] = (s.get(part) or {}).get(net)
    for which in SUMMARY_METRICS:
        for metric, e in (s.get(which) or {}).items():
            row[f"{which}/{metric}"] = e["value"]
            row[f"{which}/{metric}/std"] = e.get("std")
            row[f"{which}/{metric}/protocol"] = protocol_id(e.get("protocol"))
            row[f"{which}/{metric}/images_seen"] = e.get("images_seen")
    row.update(selected_checkpoint(s.get("final") or {}))
    row.update({f"cfg.{k}": v for k, v in cfg.items()})
    row.update({f"prov.{k}": v for k, v in flatten(run.provenance).items()})
    return row


def selected_checkpoint(final: dict) -> dict[str, Any]:
    """``selected_checkpoint`` (the file the final values were scored from; summaries written
    before it was recorded scored the last EMA generator: ``last.pt``) and
    ``selected_images_seen``; None without final values."""
    entry = next(iter(final.values()), None)
    if entry is None:
        return {"selected_checkpoint": None, "selected_images_seen": None}
    return {"selected_checkpoint": entry.get("checkpoint") or "last.pt",
            "selected_images_seen": entry.get("images_seen")}


def _metric_rows(run_id: str, summary: dict, protocols: dict[str, dict]) -> list[dict]:
    """Long-form rows of the summary's metric sections and of ``scores`` (``ladabench eval``)."""
    entries = [(which, metric, e) for which in SUMMARY_METRICS
               for metric, e in (summary.get(which) or {}).items()]
    scores = summary.get("scores") or {}
    entries += [("scores", metric, e) for metric, by_protocol in scores.items()
                for e in by_protocol.values() if isinstance(e, dict)]
    rows = []
    for which, metric, e in entries:
        key = protocol_id(e.get("protocol"))
        protocols.setdefault(key, e.get("protocol") or {})
        rows.append({"run_id": run_id, "which": which, "metric": metric, "value": e.get("value"),
                     "std": e.get("std"), "protocol": key, "images_seen": e.get("images_seen"),
                     "checkpoint": e.get("checkpoint")})
    return rows


def _long_tables(run: RunData, run_id: str, protocols: dict[str, dict]):
    """(metrics rows, train rows, eval rows, event rows) of one run."""
    metrics, train, evals, events = _metric_rows(run_id, run.summary, protocols), [], [], []
    for r in run.records:
        base = {"run_id": run_id, **{k: r.get(k) for k in ("step", "images_seen", "wall_time_s")}}
        if r.get("kind") == "train":
            train.append({**base, **{k: v for k, v in r.items() if k not in base and k != "kind"}})
        elif r.get("kind") == "eval":
            for metric, e in (r.get("results") or {}).items():
                if not isinstance(e, dict):
                    continue
                key = protocol_id(e.get("protocol"))
                protocols.setdefault(key, e.get("protocol") or {})
                evals.append({**base, "metric": metric, "value": e.get("value"),
                              "std": e.get("std"), "protocol": key})
        elif r.get("kind") == "event":
            details = {k: v for k, v in r.items() if k not in base and k not in ("kind", "event")}
            events.append({**base, "event": r.get("event"),
                           "details": json.dumps(details, sort_keys=True, default=str)})
    return metrics, train, evals, events


def label_variants(runs: pd.DataFrame) -> pd.Series:
    """A readable label per run: the config keys that differ between the groups of its suite
    (``key=value``, seed excluded), else the run name without its ``seed<N>`` token (the suite
    module's run-name grammar), else the suite name."""
    names = runs["name"].astype(str).str.replace(SEED_TOKEN, "", regex=True).str.strip("-")
    labels = names.where(names != "", runs["suite"].astype(str))
    cfg_cols = [c for c in runs.columns
                if c.startswith("cfg.") and c[4:] not in NON_EXPERIMENT_KEYS]
    for _, suite in runs.groupby("suite"):
        firsts = suite.drop_duplicates("group")
        varying = [c for c in cfg_cols if firsts[c].astype(str).nunique() > 1]
        if not varying:
            continue
        for idx, row in suite.iterrows():
            if str(row["group"]).startswith("unconfigured:"):
                continue
            labels[idx] = ", ".join(f"{c.rsplit('.', 1)[-1]}={row[c]}" for c in varying)
    return labels


def load_results(roots: Iterable[str | Path]) -> Results:
    """Read every run directory under ``roots`` into :class:`Results`."""
    roots = [Path(r) for r in roots]
    rows, protocols = [], {}
    tables: tuple[list, list, list, list] = ([], [], [], [])
    seen: set[Path] = set()
    for root in roots:
        for run_dir in find_run_dirs(root):
            if run_dir.resolve() in seen:
                continue
            seen.add(run_dir.resolve())
            run = load_run(run_dir)
            row = _run_row(run)
            rows.append(row)
            for acc, part in zip(tables, _long_tables(run, row["run_id"], protocols)):
                acc.extend(part)
    runs = pd.DataFrame(rows)
    if not runs.empty:
        runs["variant"] = label_variants(runs)
    cols = {"metrics": ["run_id", "which", "metric", "value", "std", "protocol", "images_seen",
                        "checkpoint"],
            "train": ["run_id", "step", "images_seen", "wall_time_s"],
            "evals": ["run_id", "step", "images_seen", "wall_time_s", "metric", "value", "std",
                      "protocol"],
            "events": ["run_id", "step", "images_seen", "wall_time_s", "event", "details"]}
    frames = [pd.DataFrame(t) if t else pd.DataFrame(columns=c)
              for t, c in zip(tables, cols.values())]
    return Results(roots, runs, *frames, protocols=protocols)
