"""Suite files: schema, grid expansion into RunConfigs with stable ids, and validation.

A suite YAML names a ``base`` (``ladabench.suite.bases``), optional ``overrides`` (nested, in
RunConfig structure), a ``grid`` of ``key.path: [values]`` and an optional ``exclude``. The
expansion is base → overrides → ``--smoke`` → grid point → ``--set``; each point is validated as
a :class:`RunConfig` and checked for capability (attention shapes, preset/resolution, data set and
metric names). Every problem becomes one line ``FILE: key.path: what was expected``; all of them
are collected and raised together before anything is launched or written.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from ladabench.config import RunConfig, apply_overrides
from ladabench.core.errors import ConfigError, ConfigErrors, Problem
from ladabench.core.rundir import SAFE_NAME, check_output_folder
from ladabench.suite.plugins import load_plugins
from ladabench.core.schema import StrictModel, load_yaml, validation_problems
from ladabench.suite.bases import BASES, REQUIRED, SCALING_SMOKE, SMOKE, SMOKE_RESOURCES, get_base
from ladabench.suite.checks import check_run, check_scaling
from ladabench.suite.grid import (
    SUITE_KEYS, Locator, check_key_path, get_path, grid_points, merge, run_name, set_path,
)



class Resources(StrictModel):
    """What one run needs (a SLURM profile may cap ``time_min``): ``gpus`` and ``mem_gb`` per
    node, ``cpus`` per process. A run is ``nodes`` × ``tasks_per_node`` processes (its world
    size), one per GPU: ``tasks_per_node`` defaults to ``gpus`` (1 without a GPU)."""

    gpus: int = Field(default=0, ge=0)
    cpus: int = Field(default=2, ge=1)
    mem_gb: float = Field(default=8.0, gt=0)
    time_min: int = Field(default=60, gt=0)
    nodes: int = Field(default=1, ge=1)
    tasks_per_node: int | None = Field(default=None, ge=1)

    @property
    def processes_per_node(self) -> int:
        return self.tasks_per_node or max(1, self.gpus)

    @property
    def world_size(self) -> int:
        return self.nodes * self.processes_per_node


class SuiteSpec(StrictModel):
    """The suite file as written. ``kind: scaling`` runs the attention scaling benchmark as one
    job (its options under ``scaling``) instead of training runs."""

    name: str | None = None
    kind: Literal["train", "scaling"] = "train"
    description: str = ""
    base: str | None = None
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    exclude: list[dict[str, Any]] = Field(default_factory=list)
    resources: Resources = Resources()
    results_root: str = "results"
    scaling: dict[str, Any] = Field(default_factory=dict)
    #: modules or ``*.py`` files (relative to the suite) imported first (``ladabench.suite.plugins``)
    plugins: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Run:
    """One expanded run: ``run_id`` = ``<config.name>-<config_hash>``, its folder and config."""

    run_id: str
    config: RunConfig
    run_dir: Path


@dataclass(frozen=True)
class Suite:
    name: str
    path: Path
    spec: SuiteSpec
    runs: tuple[Run, ...]
    results_dir: Path
    #: resolved plugin references, loaded again in every job
    plugins: tuple[str, ...] = ()
    #: ``kind: scaling``: the keyword arguments of ``run_scaling`` (after ``--set scaling.*``)
    scaling: dict[str, Any] = field(default_factory=dict)
    #: the plugins were not run, so the registered names (presets, variants, data sets,
    #: metrics) they could add were not checked
    unchecked: bool = False
    #: what one run asks for: ``spec.resources``, shrunk for ``--smoke``
    resources: Resources = Resources()

    @property
    def required_missing(self) -> list[str]:
        """Key paths that must be set before a real launch (e.g. ``data.root`` of a folder)."""
        missing = []
        for run in self.runs:
            for key in REQUIRED.get(run.config.data.name, ()):
                if get_path(run.config.to_dict(), key) is None and key not in missing:
                    missing.append(key)
        return missing


def _parse_sets(sets: list[str], problems: list[Problem]) -> dict[str, Any]:
    """``--set key=value`` strings as a flat {key path: value} (checked like grid keys)."""
    flat: dict[str, Any] = {}
    for item in sets:
        try:
            nested = apply_overrides({}, [item], source="--set")
        except ConfigError as e:
            problems.extend(e.problems)
            continue
        key = item.split("=", 1)[0].strip()
        flat[key] = get_path(nested, key)
    return flat


def _check_grid(spec: SuiteSpec, source: str, problems: list[Problem]) -> dict[str, list[Any]]:
    """The grid keys that name RunConfig fields, each with a non-empty list of distinct values."""
    grid = {}
    for key, values in spec.grid.items():
        err = check_key_path(key)
        if err:
            problems.append(Problem(source, f"grid.{key}", err))
            continue
        if not values:
            problems.append(Problem(source, f"grid.{key}", "expected a non-empty list of values"))
            continue
        seen: list[Any] = []
        for v in values:
            if v in seen:
                problems.append(Problem(source, f"grid.{key}", f"value {v!r} is listed twice"))
            seen.append(v)
        grid[key] = seen
    return grid


def _check_exclude(spec: SuiteSpec, grid: dict, source: str, problems: list[Problem]) -> None:
    for i, rule in enumerate(spec.exclude):
        for key, value in rule.items():
            where = f"exclude[{i}].{key}"
            if key not in spec.grid:
                problems.append(Problem(source, where, "not a grid key; grid keys: "
                                                       f"{', '.join(spec.grid) or '(none)'}"))
            elif key in grid:
                for v in value if isinstance(value, list) else [value]:
                    if v not in grid[key]:
                        problems.append(Problem(source, where,
                                                f"value {v!r} is not in the grid {grid[key]!r}"))


def _check_sets(flat_sets: dict[str, Any], grid: dict, problems: list[Problem]) -> None:
    for key in flat_sets:
        err = check_key_path(key)
        if err:
            problems.append(Problem("", f"--set {key}", err))
        for gkey in grid:
            if key == gkey or key.startswith(gkey + ".") or gkey.startswith(key + "."):
                problems.append(Problem("", f"--set {key}",
                                        f"overlaps the grid key {gkey!r} (use --only to pick runs)"))


def _check_override_keys(spec: SuiteSpec, source: str, problems: list[Problem]) -> None:
    """The top-level keys of ``overrides`` that the expansion sets itself (``name``, ``suite``):
    their values would be dropped (deeper keys are validated with each run's config)."""
    for key in SUITE_KEYS:
        if key in spec.overrides:
            problems.append(Problem(source, f"overrides.{key}", check_key_path(key)))


def _build_runs(spec: SuiteSpec, name: str, source: str, base: dict, grid: dict, flat_sets: dict,
                smoke: bool, results_dir: Path, problems: list[Problem],
                check_names: bool) -> list[Run]:
    locate = Locator(spec.overrides, spec.base, list(grid), flat_sets, SMOKE if smoke else None)
    start = merge(merge(base, spec.overrides), SMOKE if smoke else {})
    runs = []
    for point in grid_points(grid, spec.exclude):
        data = copy.deepcopy(start)
        for key, value in {**point, **flat_sets}.items():
            set_path(data, key, value)
        data.update(name=run_name(name, point), suite=name)
        try:
            cfg = RunConfig.model_validate(data)
        except ValidationError as err:
            problems.extend(p.at(locate(p.key)) for p in validation_problems(err, RunConfig, source))
            continue
        if check_names:
            problems.extend(p.at(locate(p.key)) for p in check_run(cfg, source))
        rid = cfg.run_id()
        runs.append(Run(rid, cfg, results_dir / name / rid))
    return runs


def _check_unique(runs: list[Run], source: str, problems: list[Problem]) -> None:
    by_hash: dict[str, str] = {}
    for run in runs:
        other = by_hash.setdefault(run.config.config_hash(), run.run_id)
        if other != run.run_id:
            problems.append(Problem(source, "grid",
                                    f"runs {other} and {run.run_id} have the same config"))


def _check_kind(spec: SuiteSpec, source: str, problems: list[Problem]) -> None:
    if spec.kind == "train" and spec.base is None:
        problems.append(Problem(source, "base", f"required; available: {', '.join(BASES.names())}"))
    if spec.kind == "train" and spec.scaling:
        problems.append(Problem(source, "scaling", "only for 'kind: scaling' suites"))
    if spec.kind == "scaling":
        for key in ("base", "overrides", "grid", "exclude"):
            if getattr(spec, key):
                problems.append(Problem(source, key, "not used by a 'kind: scaling' suite; remove it"))


def _set_resources(spec: SuiteSpec, flat_sets: dict[str, Any],
                   problems: list[Problem]) -> SuiteSpec:
    """``--set resources.<key>=value`` (any kind of suite; removed from ``flat_sets``): what each
    job asks the executor for, e.g. ``resources.gpus=1`` for a GPU."""
    chosen = {key.removeprefix("resources."): flat_sets.pop(key)
              for key in list(flat_sets) if key.startswith("resources.")}
    if not chosen:
        return spec
    try:
        resources = Resources.model_validate({**spec.resources.model_dump(), **chosen})
    except ValidationError as err:
        problems.extend(p.at(f"--set resources.{p.key}")
                        for p in validation_problems(err, Resources, ""))
        return spec
    return spec.model_copy(update={"resources": resources})


def _check_scaling_device(spec: SuiteSpec, options: dict[str, Any], source: str,
                          problems: list[Problem]) -> None:
    """A sweep on a GPU must ask for one (the local and SLURM executors hide the GPUs a job did
    not ask for)."""
    device = str(options.get("device", "auto"))
    if device.startswith("cuda") and spec.resources.gpus == 0:
        problems.append(Problem(source, "scaling.device", f"{device!r} needs resources.gpus >= 1 "
                                "(--set resources.gpus=1)"))


def _scaling_options(spec: SuiteSpec, flat_sets: dict[str, Any], smoke: bool, source: str,
                     problems: list[Problem], check_names: bool) -> dict[str, Any]:
    """A scaling suite's ``run_scaling`` options, then ``--smoke``, then ``--set scaling.*``."""
    options = {**spec.scaling, **(SCALING_SMOKE if smoke else {})}
    for key, value in flat_sets.items():
        if key.startswith("scaling."):
            options[key.removeprefix("scaling.")] = value
        else:
            problems.append(Problem("", f"--set {key}", "a 'kind: scaling' suite takes only scaling.<option>"))
    problems.extend(p.at(f"scaling.{p.key}") for p in check_scaling(options, source, check_names))
    return options


def smoke_resources(res: Resources, runs: list[Run]) -> Resources:
    """``res`` capped by :data:`SMOKE_RESOURCES`; one GPU (at most) when a run names CUDA, and
    then one process (one per GPU)."""
    cuda = any(r.config.train.device.startswith("cuda") for r in runs)
    caps = {**SMOKE_RESOURCES, "gpus": 1 if cuda else 0}
    have = {**res.model_dump(), "tasks_per_node": res.processes_per_node}
    capped = {k: min(have[k], cap) for k, cap in caps.items()}
    if capped["gpus"]:
        capped["tasks_per_node"] = capped["gpus"]
    return Resources(**capped)


def _check_resources(written: Resources, res: Resources, runs: list[Run], source: str,
                     problems: list[Problem]) -> None:
    """One process per GPU (in the ``written`` resources), a GPU for runs on CUDA, and a global
    batch that the processes of ``res`` (what the runs get, e.g. after ``--smoke``) can split
    evenly."""
    if written.gpus and written.tasks_per_node not in (None, written.gpus):
        problems.append(Problem(source, "resources.tasks_per_node", (
            f"expected {written.gpus} (one process per GPU: resources.gpus is {written.gpus} "
            f"per node) or no value, got {written.tasks_per_node}")))
        return
    cuda = sorted({r.config.train.device for r in runs if r.config.train.device.startswith("cuda")})
    if cuda and res.gpus == 0:
        problems.append(Problem(source, "resources.gpus", (
            f"expected >= 1: train.device is {cuda[0]!r} and a job sees only the GPUs it asks "
            "for (--set resources.gpus=1)")))
    world = res.world_size
    for batch in dict.fromkeys(r.config.train.batch_size for r in runs):
        if batch % world:
            problems.append(Problem(source, "train.batch_size", (
                f"expected a multiple of the world size {world} (resources: nodes {res.nodes} x "
                f"{res.processes_per_node} processes per node; each process trains batch_size / "
                f"{world} images a step), got {batch}")))


def _parse_spec(data: dict, source: str, problems: list[Problem]) -> SuiteSpec:
    """The suite file as a SuiteSpec; top-level entries with problems are reported and dropped
    so that the rest can still be checked."""
    try:
        return SuiteSpec.model_validate(data)
    except ValidationError as err:
        problems.extend(validation_problems(err, SuiteSpec, source))
        bad = {e["loc"][0] for e in err.errors() if e["loc"]}
        return SuiteSpec.model_validate({k: v for k, v in data.items() if k not in bad})


def load_suite(path: str | Path, *, sets: list[str] | tuple[str, ...] = (), smoke: bool = False,
               results_root: str | Path | None = None, run_plugins: bool = True,
               allow_plugins: tuple[str | Path, ...] = ()) -> Suite:
    """Read, expand and validate a suite file; raise ConfigErrors listing every problem.

    ``sets`` are ``key.path=value`` strings applied to every run; ``smoke`` applies the trial
    schedule (``suite.bases.SMOKE``) and names the suite ``<name>_smoke`` so trial runs never mix
    with real ones; ``results_root`` replaces the file's ``results_root``. ``run_plugins=False``
    (dry runs, status) imports no plugin: the names a plugin would register are then not checked
    (``Suite.unchecked``). ``allow_plugins`` are plugin files allowed outside the suite's folder.
    """
    path = Path(path)
    source = str(path)
    problems: list[Problem] = []
    spec = _parse_spec(load_yaml(path), source, problems)
    name = spec.name or path.stem
    if not re.match(SAFE_NAME, name):
        problems.append(Problem(source, "name", f"expected a folder name of [A-Za-z0-9_.+=-] not "
                                f"starting with '.' or '-', got {name!r}"))
        name = "suite"  # go on checking the rest under a valid name
    name = f"{name}_smoke" if smoke else name
    plugins, plugin_problems = load_plugins(spec.plugins, path, run_plugins, tuple(allow_plugins))
    problems += plugin_problems
    check_names = run_plugins or not plugins
    _check_kind(spec, source, problems)
    base: dict[str, Any] = {}
    if spec.base is not None:
        if spec.base in BASES:
            base = get_base(spec.base)
        else:
            problems.append(Problem(source, "base", BASES.unknown_message(spec.base)))
    grid = _check_grid(spec, source, problems)
    _check_exclude(spec, grid, source, problems)
    flat_sets = _parse_sets(list(sets), problems)
    spec = _set_resources(spec, flat_sets, problems)
    results_dir = Path(results_root if results_root is not None else spec.results_root)
    try:
        check_output_folder(results_dir, "--results" if results_root is not None else "results_root")
    except ConfigError as e:
        problems.append(Problem(source, e.problem.key, e.problem.message))
    runs: list[Run] = []
    scaling: dict[str, Any] = {}
    if spec.kind == "scaling":
        scaling = _scaling_options(spec, flat_sets, smoke, source, problems, check_names)
        _check_scaling_device(spec, scaling, source, problems)
    else:
        _check_sets(flat_sets, grid, problems)
        _check_override_keys(spec, source, problems)
        runs = _build_runs(spec, name, source, base, grid, flat_sets, smoke, results_dir, problems,
                           check_names)
        _check_unique(runs, source, problems)
    resources = smoke_resources(spec.resources, runs) if smoke else spec.resources
    _check_resources(spec.resources, resources, runs, source, problems)
    if problems:
        raise ConfigErrors(list(dict.fromkeys(problems)))
    return Suite(name, path, spec, tuple(runs), results_dir / name, plugins, scaling,
                 unchecked=not check_names, resources=resources)
