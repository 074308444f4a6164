"""The run config file of ``ladabench train``: the sections of a RunConfig plus ``plugins:``
(files relative to the config file or module names, the semantics of suite plugins:
``ladabench.suite.plugins``), with ``data.resolution`` taken from the model preset when the
file does not give it. Every problem is reported at once, one line each, before anything runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ladabench.config import ModelConfig, RunConfig, apply_overrides
from ladabench.core.errors import ConfigErrors, Problem
from ladabench.core.schema import load_yaml, parse_model
from ladabench.suite.checks import check_run
from ladabench.suite.plugins import load_plugins

#: the run-file key that lists plugins (not part of the RunConfig: it names code, not settings)
PLUGINS_KEY = "plugins"


def resolution_from_preset(data: dict[str, Any]) -> None:
    """Set ``data.resolution`` to the preset's image size when the mapping has none (a preset
    nobody registered is left to the checks, which name it)."""
    from ladabench.models import PRESETS, get_preset

    section, model = data.setdefault("data", {}), data.get("model") or {}
    if not isinstance(section, dict) or "resolution" in section or not isinstance(model, dict):
        return
    preset = model.get("preset", ModelConfig().preset)
    if isinstance(preset, str) and preset in PRESETS:
        section["resolution"] = get_preset(preset).img_size


def _plugin_refs(data: dict[str, Any], source: str) -> list[str]:
    refs = data.pop(PLUGINS_KEY, [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise ConfigErrors([Problem(source, PLUGINS_KEY, "expected a list of plugin files (*.py, "
                                                         "relative to this file) or module names")])
    return refs


def load_train_config(path: str | Path, sets: list[str] | tuple[str, ...] = (),
                      allow_plugins: tuple[str | Path, ...] = ()) -> tuple[RunConfig, tuple[str, ...]]:
    """The checked RunConfig of a run file (``sets``: ``key=value`` overrides) and its resolved
    plugin references, which are imported first (they may register the names it uses).
    Raises ConfigErrors listing every problem (unknown keys, plugins, names, preset/resolution)."""
    path = Path(path)
    source = str(path)
    data = apply_overrides(load_yaml(path), list(sets))
    plugins, problems = load_plugins(_plugin_refs(data, source), path, True, allow_plugins)
    if problems:
        raise ConfigErrors(problems)
    resolution_from_preset(data)
    cfg = parse_model(RunConfig, data, source)
    problems = check_run(cfg, source)
    if problems:
        raise ConfigErrors(problems)
    return cfg, plugins
