"""``ladabench report``: render one self-contained HTML report from results folders or suites."""
from __future__ import annotations

import argparse

NAME = "report"
HELP = "Render an HTML report (plus CSV/Markdown/LaTeX exports) from results folders or suite files."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", default=["results"], metavar="RESULTS_DIR|SUITE.yaml",
                        help="results folders (a run, a suite or a folder of suites) or suite "
                             "files (mapped to <results_root>/<name>); default: results")
    parser.add_argument("-o", "--output", default=None, metavar="reports/NAME.html",
                        help="HTML file to write (default: reports/<folder names>.html)")
    parser.add_argument("--published", default=None, metavar="DIR",
                        help="folder of published-number YAMLs (default: baselines/published)")


def run(args: argparse.Namespace) -> int:
    from ladabench.report.render import DEFAULT_PUBLISHED, render_report

    path = render_report(args.inputs, args.output, args.published or DEFAULT_PUBLISHED)
    print(path)
    return 0
