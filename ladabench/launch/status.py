"""What state each run is in (from its ``summary.json``), as plain-text tables for ``ladabench
run --dry-run`` and ``ladabench status``."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ladabench.config.profiles import SlurmProfile, slurm_parameters
from ladabench.config.train import TrainConfig
from ladabench.core.errors import ConfigError
from ladabench.core.rundir import NEW, RunDir, read_summary, run_status
from ladabench.core.schema import parse_yaml
from ladabench.core.text import format_table
from ladabench.launch.jobs import SCALING_OUTPUT, scaling_status
from ladabench.launch.plan import Planned
from ladabench.suite import Suite, load_suite


def _target_images(rd: RunDir) -> int | None:
    if not rd.config.exists():
        return None
    return (parse_yaml(rd.config.read_text(encoding="utf-8")) or {}).get("train", {}).get("images")


def metric_text(summary: dict[str, Any], which: str) -> str:
    """``fid 3.29`` style text of the metrics in ``final`` (or ``best``); a final evaluation
    names the checkpoint it scored (``· best.pt at 6,400 images``), which need not be the last."""
    values = {k: v for k, v in (summary.get(which) or {}).items()
              if isinstance(v, dict) and isinstance(v.get("value"), (int, float))}
    text = ", ".join(f"{k} {v['value']:.4g}" for k, v in values.items())
    scored = next(iter(values.values()), {})
    if scored.get("checkpoint") and isinstance(scored.get("images_seen"), int):
        text += f" · {scored['checkpoint']} at {scored['images_seen']:,} images"
    return text


def run_row(run_id: str, run_dir: Path, target: int | None = None,
            planned_world_size: int = 1) -> dict[str, Any]:
    """One status row: run id, status, images seen / target, processes, final metrics, error.
    The processes are the ``world_size`` the trainer recorded; a run that has not trained yet
    shows ``planned_world_size`` (its suite's resources), an older run without the key 1."""
    rd = RunDir(run_dir)
    s = read_summary(rd) or {"status": NEW}
    status = run_status(rd)
    target = target if target is not None else _target_images(rd)
    seen = s.get("images_seen") or 0
    progress = f"{seen:,}/{target:,}" if target else f"{seen:,}"
    untrained = status in (NEW, "pending")
    world_size = s.get("world_size", planned_world_size if untrained else 1)
    return {"run": run_id, "status": status, "images": progress, "world_size": world_size,
            "metrics": metric_text(s, "final") or metric_text(s, "best"), "error": s.get("error") or ""}


def suite_status(suite: Suite) -> str:
    """Every expanded run of a loaded suite, including those not started yet (``new``)."""
    if suite.spec.kind == "scaling":
        return "\n".join([f"suite {suite.name} ({suite.results_dir}/)", *_scaling_lines(suite)])
    rows = [run_row(r.run_id, r.run_dir, r.config.train.images, suite.resources.world_size)
            for r in suite.runs]
    return f"suite {suite.name} ({suite.results_dir}/)\n{format_table(rows)}"


def results_status(results_root: str | Path, suite_name: str | None = None) -> str:
    """The run folders found under ``results_root`` (one suite, or every suite)."""
    root = Path(results_root)
    if suite_name is not None and not (root / suite_name).is_dir():
        raise ConfigError(f"{root / suite_name}: no such suite folder (give the suite's YAML file "
                          f"to see runs that have not started)")
    suites = [root / suite_name] if suite_name else sorted(p for p in root.glob("*") if p.is_dir())
    blocks = []
    for folder in suites:
        rows = [run_row(d.name, d) for d in sorted(folder.iterdir())
                if d.is_dir() and RunDir(d).summary.exists()]
        table = format_table(rows)
        if not rows and (folder / "scaling.json").exists():
            table = "scaling sweep: finished (scaling.json, scaling.csv)"
        blocks.append(f"suite {folder.name} ({folder}/)\n{table}")
    return "\n\n".join(blocks) or f"no results under {root}/"


def show_status(target: str | None, results_root: str | Path | None = None,
                allow_plugins: tuple[str | Path, ...] = ()) -> str:
    """``target`` is a suite YAML file (all its runs; ``allow_plugins`` as for ``run``, none is
    imported), a suite name under the results root, a suite folder's path (``results/NAME``, as
    ``run`` prints it), one run directory (``train --out``), or None (every suite there)."""
    if target is not None and target.endswith((".yaml", ".yml")):
        return suite_status(load_suite(target, results_root=results_root, run_plugins=False,
                                       allow_plugins=allow_plugins))
    if target is not None and RunDir(Path(target)).summary.exists():
        folder = Path(target)
        return f"run {folder}/\n{format_table([run_row(folder.name, folder)])}"
    root = Path(results_root or "results")
    if target is not None and not (root / target).is_dir() and Path(target).is_dir():
        folder = Path(target)
        return results_status(folder.parent, folder.name)
    return results_status(root, target)


def _scaling_lines(suite: Suite) -> list[str]:
    options = ", ".join(f"{k}={v}" for k, v in suite.scaling.items()) or "run_scaling defaults"
    return [f"1 job: attention scaling sweep ({options})",
            f"{scaling_status(suite.results_dir)}: {suite.results_dir / SCALING_OUTPUT}"]


def schedule_text(train: TrainConfig) -> str:
    """``8,192``, or with a time budget ``1,000,000 or 150 s cpu`` (whichever comes first)."""
    text = f"{train.images:,}"
    if train.time_budget_s is not None:
        text += f" or {train.time_budget_s:g} s {train.time_budget_clock}"
    return text


def describe(suite: Suite, planned: list[Planned], executor: str,
             profile: SlurmProfile | None = None) -> str:
    """The dry-run text: every selected run with its action, status and schedule, and the
    resources (for SLURM: the exact submitit parameters, from the loaded ``profile``)."""
    res = suite.resources
    what = ("kind scaling" if suite.spec.kind == "scaling"
            else f"{len(planned)} of {len(suite.runs)} runs, base {suite.spec.base}")
    lines = [f"suite {suite.name} ({suite.path}): {what}, results {suite.results_dir}/",
             f"executor {executor}; per run: world size {res.world_size} (nodes {res.nodes} "
             f"x {res.processes_per_node} processes), gpus {res.gpus} and mem {res.mem_gb:g} GB "
             f"per node, cpus {res.cpus} per process, time {res.time_min} min"]
    if executor == "slurm":
        params = slurm_parameters(profile, res, f"ladabench-{suite.name}")
        lines.append("submitit: " + ", ".join(f"{k}={v}" for k, v in params.items()))
    if suite.spec.kind == "scaling":
        lines += _scaling_lines(suite)
    else:
        lines.append(format_table([
            {"action": p.action, "status": p.status, "run": p.run.run_id,
             "images": schedule_text(p.run.config.train), "batch": p.run.config.train.batch_size}
            for p in planned]))
    lines += [f"plugin that a launch would run: {ref}" for ref in suite.plugins]
    if suite.unchecked:
        lines.append("not checked: preset, attention, data set and metric names (the plugins "
                     "may register them; a launch runs the plugins and checks them)")
    lines.append("dry run: nothing launched, nothing written")
    return "\n".join(lines)
