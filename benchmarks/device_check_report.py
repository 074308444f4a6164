"""Collects what ``benchmarks/device_check.sh`` measured into ``OUT/device_check.json`` and a
Markdown table ``OUT/device_check.md`` (benches, the training, the resumed run, the overhead of a
world-size-1 distributed run, the local-executor suite and the scaling sweep); exits 1 when a
step failed or timed out.

    python benchmarks/device_check_report.py OUT --device cuda --seconds 431
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ladabench.core.io import read_jsonl, write_json, write_text

PRESETS = ("cifar10_32", "ffhq_128")
MODES = ("fp32", "tf32", "bf16", "compile")
BAD = ("failed", "timeout")


def _read_status(path: Path) -> str:
    return path.read_text().strip() if path.is_file() else "failed: no status written"


def bench_rows(out: Path) -> list[dict]:
    rows = []
    for preset in PRESETS:
        for mode in MODES:
            name = f"{preset}-{mode}"
            status = _read_status(out / "bench" / f"{name}.status")
            row = {"preset": preset, "mode": mode, "status": status, "result": None}
            if status == "ok":
                row["result"] = json.loads((out / "bench" / f"{name}.json").read_text())
            rows.append(row)
    return rows


def training(out: Path) -> dict:
    """The training step's status, its run summary and its in-loop evaluation records."""
    run = out / "train"
    result: dict = {"status": _read_status(out / "train.status"), "summary": None,
                    "in_loop_evaluations": []}
    if (run / "summary.json").is_file():
        s = json.loads((run / "summary.json").read_text())
        result["summary"] = {k: s.get(k) for k in (
            "status", "step", "images_seen", "wall_time_s", "img_per_s", "peak_memory_bytes",
            "final")}
    if (run / "metrics.jsonl").is_file():
        result["in_loop_evaluations"] = [r for r in read_jsonl(run / "metrics.jsonl")
                                         if r.get("kind") == "eval"]
    return result


def resumed(out: Path) -> dict:
    """The SIGTERM-then-resume step: its status, the resumes the run logged, its final state."""
    run = out / "resume"
    records = read_jsonl(run / "metrics.jsonl") if (run / "metrics.jsonl").is_file() else []
    summary = json.loads((run / "summary.json").read_text()) if (run / "summary.json").is_file() else {}
    return {"status": _read_status(out / "resume.status"),
            "resumes": sum(r.get("event") == "resume" for r in records),
            "run_status": summary.get("status"), "images_seen": summary.get("images_seen")}


def ddp_overhead(out: Path) -> dict:
    """``ladabench bench --ddp-overhead``: its status and result (img/s plain and distributed,
    their ratio, the backend)."""
    status = _read_status(out / "ddp.status")
    result = json.loads((out / "ddp.json").read_text()) if status == "ok" else None
    return {"status": status, "result": result}


def suite_runs(out: Path) -> dict:
    """The local-executor suite: each run's final status and the device it trained on."""
    runs = {}
    for summary in sorted((out / "suite").glob("*/*/summary.json")):
        prov = summary.parent / "provenance.json"
        device = json.loads(prov.read_text()).get("device") if prov.is_file() else None
        runs[summary.parent.name] = {"status": json.loads(summary.read_text()).get("status"),
                                     "device": device}
    return {"status": _read_status(out / "suite.status"), "runs": runs}


def sweep(out: Path) -> dict:
    """The scaling sweep: points measured and skipped, and where."""
    found = sorted((out / "sweep").glob("*/scaling.json"))
    doc = json.loads(found[0].read_text()) if found else {"rows": [], "settings": {}}
    count = {s: sum(r["status"] == s for r in doc["rows"]) for s in ("ok", "skipped", "failed")}
    return {"status": _read_status(out / "sweep.status"), "points": count,
            "device_name": doc["settings"].get("device_name")}


def _fmt(x, spec: str) -> str:
    return "–" if x is None else format(x, spec)


def markdown(report: dict) -> str:
    lines = [
        f"Device check on {report['device_name']} ({report['device']}, torch {report['torch']}), "
        f"{report['seconds']} s in all.",
        "",
        "| preset | mode | batch | train img/s | G forward img/s | GFLOP/s | share of matmul peak "
        "| peak memory (MiB) | status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["bench"]:
        r = row["result"] or {}
        mem = r.get("peak_memory_bytes")
        lines.append(
            f"| {row['preset']} | {row['mode']} | {r.get('batch', '–')} "
            f"| {_fmt(r.get('train_img_per_s'), '.3g')} | {_fmt(r.get('g_forward_img_per_s'), '.3g')} "
            f"| {_fmt(r.get('achieved_gflop_per_s'), '.0f')} | {_fmt(r.get('peak_share'), '.0%')} "
            f"| {_fmt(None if mem is None else mem / 2**20, '.0f')} | {row['status']} |")
    t = report["training"]
    s = t["summary"] or {}
    fid = [e["results"].get("fid", {}).get("value") for e in t["in_loop_evaluations"]]
    lines += [
        "",
        f"Training (cifar10_32 on the embedded digits, fp32, paper defaults): {t['status']}; "
        f"{s.get('images_seen', 0)} images in {_fmt(s.get('wall_time_s'), '.0f')} s "
        f"({_fmt(s.get('img_per_s'), '.1f')} img/s), in-loop digits-cnn FID "
        f"(standard: false): {', '.join(_fmt(v, '.1f') for v in fid) or 'none'}.",
    ]
    r, su, sw, dd = report["resume"], report["suite"], report["sweep"], report["ddp"]
    d = dd["result"] or {}
    runs = ", ".join(f"{name} {v['status']} on {v['device']}" for name, v in su["runs"].items())
    lines += [
        "",
        f"Resume (SIGTERM after the first step, then continued): {r['status']}; {r['resumes']} "
        f"resume(s) logged, run {r['run_status']} at {r['images_seen']} images.",
        "",
        f"Distributed run of world size 1 ({d.get('backend', '–')}, cifar10_32, batch "
        f"{d.get('batch', '–')}): {dd['status']}; {_fmt(d.get('distributed_img_per_s'), '.3g')} "
        f"img/s against {_fmt(d.get('plain_img_per_s'), '.3g')} plain, ratio "
        f"{_fmt(d.get('ratio'), '.3f')}.",
        "",
        f"Suite through the local executor: {su['status']}; {runs or 'no runs'}.",
        "",
        f"Scaling sweep on {sw['device_name']}: {sw['status']}; {sw['points']['ok']} points "
        f"measured, {sw['points']['skipped']} skipped, {sw['points']['failed']} failed.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--device", required=True)
    parser.add_argument("--seconds", type=int, required=True, help="wall time of the whole check")
    args = parser.parse_args(argv)
    bench = bench_rows(args.out)
    first = next((row["result"] for row in bench if row["result"]), {})
    report = {
        "device": args.device, "device_name": first.get("device_name", "unknown"),
        "torch": first.get("torch", "unknown"), "seconds": args.seconds,
        "bench": bench, "training": training(args.out), "resume": resumed(args.out),
        "ddp": ddp_overhead(args.out), "suite": suite_runs(args.out), "sweep": sweep(args.out),
    }
    statuses = [row["status"] for row in bench] + [
        report[step]["status"] for step in ("training", "resume", "ddp", "suite", "sweep")]
    report["ok"] = not any(s.startswith(BAD) for s in statuses)
    write_json(args.out / "device_check.json", report)
    table = markdown(report)
    write_text(args.out / "device_check.md", table)
    print(table, end="")
    print(f"wrote {args.out / 'device_check.json'} and {args.out / 'device_check.md'}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
