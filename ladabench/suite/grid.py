"""Grid mechanics of suite files: nested key paths, deep merges, the readable run names, the
points of a grid minus its excludes, and mapping a RunConfig key path back to where the user
wrote it (``grid.<key>``, ``--set <key>``, ``overrides.<key>``, ``--smoke``, the base)."""
from __future__ import annotations

import copy
import difflib
import itertools
import re
from typing import Any

from ladabench.config import RunConfig


def get_path(d: dict, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return None
        d = d[part]
    return d


def set_path(d: dict, path: str, value: Any) -> None:
    keys = path.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = copy.deepcopy(value)


def merge(base: dict, over: dict) -> dict:
    """Deep merge ``over`` into a copy of ``base`` (mappings merge, anything else replaces)."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


#: run-config keys the expansion sets itself (the run's name from the grid point, the suite's)
SUITE_KEYS = ("name", "suite")


def check_key_path(path: str) -> str | None:
    """None if ``path`` names a RunConfig field (free-form mappings accept any tail), else what
    is wrong, with a did-you-mean."""
    current: Any = RunConfig
    for part in path.split("."):
        fields = getattr(current, "model_fields", None)
        if fields is None:
            return None
        if part in SUITE_KEYS and current is RunConfig:
            return "set by the suite itself; not a grid or override key"
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown key {part!r}{hint}; allowed: {', '.join(fields)}"
        current = fields[part].annotation
    return None


def _token(key: str, value: Any) -> str:
    """The readable part of a run name for one grid value: strings as is, booleans as the key or
    ``no_<key>``, numbers as ``<key><value>``, lists joined with ``+``."""
    leaf = key.split(".")[-1]
    if isinstance(value, bool):
        text = leaf if value else f"no_{leaf}"
    elif isinstance(value, (int, float)):
        text = f"{leaf}{value}"
    elif isinstance(value, (list, tuple)):
        text = "+".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = leaf
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9_.+=]", "_", text)


def run_name(suite_name: str, point: dict[str, Any]) -> str:
    """Readable run name: the grid tokens joined by '-', or the suite name without a grid."""
    return "-".join(_token(k, v) for k, v in point.items()) or suite_name


def written_in(tree: Any, path: str) -> bool:
    """True if the nested mapping ``tree`` sets ``path`` or a non-mapping above it."""
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
    return True


class Locator:
    """Maps a RunConfig key path back to where the user wrote it (grid, --set, overrides, base)."""

    def __init__(self, overrides: dict, base: str | None, grid_keys: list[str], sets: dict[str, Any],
                 smoke: dict | None) -> None:
        self.overrides, self.base, self.grid_keys = overrides, base, grid_keys
        self.sets, self.smoke = sets, smoke

    def __call__(self, path: str) -> str:
        for key in self.sets:
            if path == key or path.startswith(key + "."):
                return f"--set {key}"
        for key in self.grid_keys:
            if path == key or path.startswith(key + "."):
                return f"grid.{key}"
        if written_in(self.overrides, path):
            return f"overrides.{path}"
        if self.smoke and written_in(self.smoke, path):
            return f"--smoke {path}"
        return f"base {self.base}: {path}"


def excluded(point: dict[str, Any], rules: list[dict[str, Any]]) -> bool:
    """A point is excluded when it matches every key of one rule (a list value = any of)."""
    return any(
        all(point.get(k) in (v if isinstance(v, list) else [v]) for k, v in rule.items())
        for rule in rules
    )


def grid_points(grid: dict[str, list[Any]], rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = list(grid)
    points = [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]
    return [p for p in points if not excluded(p, rules)]
