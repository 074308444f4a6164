"""Files written beside the HTML report (in ``<report stem>_files/``): every run as CSV, the
main results as a Markdown table and a LaTeX booktabs table ready for a paper, and the FID
differences between variants with their Welch intervals as CSV."""
from __future__ import annotations

import html
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from ladabench.core.io import write_text
from ladabench.report import significance
from ladabench.report.tables import SuiteTable, main_results_frame
from ladabench.results import Results


#: a spreadsheet runs a cell starting with one of these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A cell a spreadsheet shows as text: a string that a spreadsheet would run as a formula
    gets a leading apostrophe (OWASP's advice); numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def markdown_safe(value: object) -> object:
    """A cell that renders as the text it holds: HTML markup and the table's ``|`` escaped."""
    if not isinstance(value, str):
        return value
    return html.escape(value, quote=False).replace("|", "\\|")


def exports_dir(html_path: Path) -> Path:
    return html_path.with_name(f"{html_path.stem}_files")


def latex_table(frame: pd.DataFrame) -> str:
    """Booktabs table (``\\toprule``/``\\midrule``/``\\bottomrule``) with LaTeX-escaped cells."""
    styler = frame.style.hide(axis="index").format(escape="latex").format_index(
        escape="latex", axis=1)
    return styler.to_latex(hrules=True, column_format="l" * len(frame.columns))


def significance_frame(tables: list[SuiteTable]) -> pd.DataFrame:
    """One row per variant compared with its column's reference variant (report/significance)."""
    columns = ["suite", *significance.Difference.__dataclass_fields__, "within_noise", "method"]
    rows = [{"suite": t.suite, **asdict(d), "within_noise": d.within_noise,
             "method": significance.METHOD}
            for t in tables for d in significance.fid_differences(t)]
    return pd.DataFrame(rows, columns=columns)


def write_exports(html_path: Path, results: Results, tables: list[SuiteTable]) -> dict[str, Path]:
    """Write ``runs.csv``, ``results.md``, ``results.tex`` and ``significance.csv`` (header only
    when no column has two variants with ≥ 3 seeds); return their paths by kind."""
    folder = exports_dir(html_path)
    paths = {"csv": folder / "runs.csv", "markdown": folder / "results.md",
             "latex": folder / "results.tex", "significance": folder / "significance.csv"}
    write_text(paths["csv"], results.runs.map(csv_safe).to_csv(index=False))
    write_text(paths["significance"],
               significance_frame(tables).map(csv_safe).to_csv(index=False))
    frame = main_results_frame(tables).fillna("")
    note = ("Mean ± std over seeds (finished runs); [95 % t-interval] with ≥ 3 seeds; "
            "* = best in column; P<n> = metric protocol (see the HTML report).\n\n")
    markdown = frame.map(markdown_safe).rename(columns=markdown_safe)
    write_text(paths["markdown"], note + markdown.to_markdown(index=False) + "\n")
    write_text(paths["latex"], "% " + note.strip() + "\n" + latex_table(frame))
    return paths
