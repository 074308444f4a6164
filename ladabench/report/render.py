"""``render_report``: results folders (or suite files) → one self-contained HTML report plus
CSV/Markdown/LaTeX exports beside it.

Reads run directories through :mod:`ladabench.results` only (no model loading, no torch), so a
re-render takes seconds. Jinja2 autoescaping is on: every run name, config value and problem
text from the results folder is shown as text.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import jinja2
import pandas as pd

import ladabench
from ladabench.core.errors import DataError
from ladabench.core.io import write_text
from ladabench.core.schema import load_yaml
from ladabench.report import figures, published, scaling, significance, tables
from ladabench.report.exports import write_exports
from ladabench.results import Results, load_results

TEMPLATES = Path(__file__).with_name("templates")
DEFAULT_PUBLISHED = Path(ladabench.__file__).resolve().parents[1] / "baselines" / "published"
#: per-run provenance keys that are not worth a summary line (they differ for every run)
_PER_RUN_PROVENANCE = re.compile(r"seed|config_hash|slurm|hostname|started|previous", re.I)


def results_dir_of(arg: str | Path) -> Path:
    """A results folder, or the folder of a suite file: ``<results_root>/<name>`` (the suite's
    keys, defaults ``results`` and the file stem; relative to the working directory)."""
    path = Path(arg)
    if path.suffix not in (".yaml", ".yml"):
        return path
    spec = load_yaml(path)
    return Path(str(spec.get("results_root") or "results")) / str(spec.get("name") or path.stem)


def default_output(roots: list[Path]) -> Path:
    name = "+".join(r.resolve().name for r in roots) or "report"
    return Path("reports") / f"{name}.html"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["num"] = lambda v, fmt="{:,.0f}": "—" if v is None or pd.isna(v) else fmt.format(v)
    return env


def _protocol_legend(results: Results, pids: dict[str, str]) -> list[dict]:
    """Per protocol id: its one-line summary and every stamp key with its value."""
    legend = []
    for key, pid in pids.items():
        protocol = results.protocols.get(key, {})
        legend.append({"id": pid, "text": published.protocol_text(protocol),
                       "stamp": [(k, str(v)) for k, v in sorted(protocol.items())]})
    return legend


def _provenance(runs: pd.DataFrame) -> list[dict]:
    """Distinct values of each provenance key over all runs (commits, versions, devices)."""
    rows = []
    for col in sorted(c for c in runs.columns if c.startswith("prov.")):
        if _PER_RUN_PROVENANCE.search(col):
            continue
        counts = runs[col].dropna().astype(str).value_counts()
        if counts.empty:
            continue
        rows.append({"key": col[5:], "values": [f"{v} ({n} runs)" for v, n in counts.items()]})
    return rows


def _fid_text(r: pd.Series, which: str, pids: dict[str, str]) -> str:
    """``3.29 (P1) · best.pt at 66.6M``: a run's FID of one summary section, with the
    checkpoint it was scored from and its images seen."""
    fid = r.get(f"{which}/fid")
    if fid is None or pd.isna(fid):
        return "—"
    images = r.get(f"{which}/fid/images_seen")
    at = "" if images is None or pd.isna(images) else f" at {tables.format_value(images, 'si')}"
    checkpoint = r.get("selected_checkpoint") if which == "final" else "last EMA"
    return f"{fid:.2f} ({pids.get(r[f'{which}/fid/protocol'], '?')}) · {checkpoint}{at}"


def _run_rows(runs: pd.DataFrame, pids: dict[str, str]) -> list[dict]:
    rows = []
    for _, r in runs.sort_values(["suite", "variant", "seed"], na_position="last").iterrows():
        rows.append({k: r.get(k) for k in ("run_id", "suite", "variant", "seed", "status",
                                           "images_seen", "problem", "error")}
                    | {"fid": _fid_text(r, "final", pids),
                       "fid_last": _fid_text(r, "final_last", pids)})
    return rows


def _paper_vs_ours(results: Results, folder: Path) -> tuple[list[published.PaperSection], list[str]]:
    """(paper tables of the data sets the results contain, ordered by resolution then title;
    the titles of the other tables)."""
    if not folder.is_dir():
        return [], []
    datasets = set(results.runs.get("cfg.data.name", pd.Series(dtype=str)).dropna().astype(str))
    tabs = sorted(published.load_published(folder),
                  key=lambda pt: (pt[1].protocol.get("resolution", 0), pt[1].table))
    shown = [published.compare(t, results, path.name) for path, t in tabs
             if t.protocol.get("dataset") in datasets]
    others = [t.table for _, t in tabs if t.protocol.get("dataset") not in datasets]
    return shown, others


def build_context(results: Results, published_dir: Path) -> dict:
    pids = tables.protocol_ids(results)
    runs = results.runs
    scale_df = scaling.load_scaling(results.roots)
    paper, paper_others = _paper_vs_ours(results, published_dir)
    with figures.plain_text():
        drawn = {
            "fid_curves": figures.fid_vs_images(results, pids),
            "cost": figures.cost_to_fid(results, pids),
            "grad_norms": figures.grad_norms(results),
            "scaling_figures": scaling.scaling_figures(scale_df) if not scale_df.empty else [],
            "samples": figures.sample_grids(results),
            "attention": figures.attention_maps(results),
        }
    return {
        **drawn,
        "title": " + ".join(sorted(runs["suite"].astype(str).unique())),
        "generated": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "version": ladabench.__version__,
        "roots": [r.resolve().name for r in results.roots],  # names only: no machine paths
        "status_counts": runs["status"].value_counts().to_dict(),
        "runs": _run_rows(runs, pids),
        "protocols": _protocol_legend(results, pids),
        "provenance": _provenance(runs),
        "paper": paper,
        "paper_others": paper_others,
        "published_dir": published_dir.name,
        "conventions": published.CONVENTIONS,
        "suite_tables": tables.suite_tables(results, pids),
        "scaling_fits": scaling.fits(scale_df) if not scale_df.empty else [],
    }


def render_report(inputs: list[str | Path], output: str | Path | None = None,
                  published_dir: str | Path = DEFAULT_PUBLISHED) -> Path:
    """Render the report of every run under ``inputs`` (results folders or suite files) to
    ``output`` (default ``reports/<folder names>.html``); exports go to ``<stem>_files/``.

    Raises:
        DataError: no input folder exists, or it holds no run directory.
    """
    roots = [results_dir_of(a) for a in inputs]
    results = load_results(roots)
    if results.runs.empty:
        raise DataError(f"{', '.join(map(str, roots))}: no run directories found "
                        "(expected folders with config.yaml / summary.json / metrics.jsonl)")
    out = Path(output) if output else default_output(roots)
    context = build_context(results, Path(published_dir))
    suite_tables = context["suite_tables"]
    context["significance"] = {t.suite: significance.fid_differences(t) for t in suite_tables}
    context["significance_method"] = significance.METHOD
    exports = write_exports(out, results, suite_tables)
    context["exports"] = {k: f"{p.parent.name}/{p.name}" for k, p in exports.items()}
    html = _environment().get_template("report.html.j2").render(**context)
    write_text(out, html)
    return out
