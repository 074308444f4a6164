"""Suite plugins: Python modules a suite imports before validation and in every job, so a user
can register their own attention variant, model preset, data set or metric and benchmark it
without editing ladabench (``plugins: [my_attention.py]`` in the suite file, or in the run config
file of ``ladabench train``, relative to that file).

A reference ending in ``.py`` is a file (relative to the suite file); anything else is a module
name on ``sys.path`` (an installed package: trusted like any package the user installed). A file
must lie in the suite's folder or below, unless the user allows it by path (``ladabench run
--allow-plugin PATH``): a suite someone else wrote cannot run code from elsewhere on the machine.
Plugins run only when a suite is launched, never for ``--dry-run`` (which checks that the files
exist), ``status`` or ``report``.
Loading is idempotent per process: registries reject a second registration, and a debug job runs
in the process that validated the suite.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path

from ladabench.core.errors import ConfigError, Problem


def resolve_plugin(ref: str, suite_file: Path, allowed: tuple[str | Path, ...] = ()) -> str:
    """An absolute file path for ``*.py`` references, the module name otherwise. A file outside
    the suite's folder that is not in ``allowed`` is a ConfigError."""
    if not ref.endswith(".py"):
        return ref
    folder = suite_file.parent.resolve()
    path = (folder / ref).resolve()
    if not path.is_relative_to(folder) and path not in {Path(a).resolve() for a in allowed}:
        raise ConfigError(f"{path} is outside the suite's folder {folder}/; run it only if you "
                          f"trust it, with --allow-plugin {path}")
    return str(path)


def load_plugin(ref: str) -> None:
    """Import a resolved plugin reference once; errors become one-line ConfigErrors."""
    if not ref.endswith(".py"):
        try:
            importlib.import_module(ref)
        except ImportError as e:
            raise ConfigError(f"cannot import module {ref!r} ({e})") from None
        return
    name = "ladabench_plugin_" + hashlib.sha256(ref.encode()).hexdigest()[:12]
    if name in sys.modules:
        return
    if not Path(ref).is_file():
        raise ConfigError(f"plugin file {ref} not found")
    spec = importlib.util.spec_from_file_location(name, ref)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise ConfigError(f"plugin {ref} failed to load: {type(e).__name__}: {e}") from None


def load_plugin_files(refs: list[str]) -> None:
    """Import plugins named on the command line (``--plugin``): files relative to the current
    folder, or module names."""
    for ref in refs:
        load_plugin(str(Path(ref).resolve()) if ref.endswith(".py") else ref)


def load_plugins(refs: list[str], config_file: Path, run: bool,
                 allowed: tuple[str | Path, ...] = ()) -> tuple[tuple[str, ...], list[Problem]]:
    """The resolved references of a config file's ``plugins`` list and its problems (one per bad
    entry, at ``plugins[i]``); each is imported when ``run``, else a file is only checked to
    exist."""
    resolved, problems = [], []
    for i, ref in enumerate(refs):
        try:
            path = resolve_plugin(ref, config_file, allowed)
            if run:
                load_plugin(path)
            elif path.endswith(".py") and not Path(path).is_file():
                raise ConfigError(f"plugin file {path} not found")
        except ConfigError as e:
            problems.append(Problem(str(config_file), f"plugins[{i}]", str(e)))
            continue
        resolved.append(path)
    return tuple(resolved), problems
