"""HTML reports of results folders (``ladabench report``)."""
from ladabench.report.render import render_report

__all__ = ["render_report"]
