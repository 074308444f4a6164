"""Plain-text tables for the terminal (``status``, ``run --dry-run``, ``check``)."""
from __future__ import annotations

from typing import Any


def format_table(rows: list[dict[str, Any]]) -> str:
    """Left-aligned columns under upper-case headers, one row per line; columns that are empty
    in every row are dropped."""
    if not rows:
        return "(no runs)"
    cols = [c for c in rows[0] if any(str(r[c]) for r in rows)]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in cols}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in cols)]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in cols) for r in rows]
    return "\n".join(line.rstrip() for line in lines)
