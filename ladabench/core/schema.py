"""Typed, frozen configuration models, reading YAML files, and the translation of pydantic errors
into :class:`Problem` s (printed one per line: "FILE: key.path: what was expected").
Torch-free, so that result readers and the report can use it."""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ladabench.core.errors import ConfigError, ConfigErrors, Problem


class StrictModel(BaseModel):
    """Unknown keys are errors, values are not coerced across types (a quoted ``"64"`` is not
    the integer 64, ``"yes"`` is not true; an integer is accepted where a float is expected),
    instances are frozen. A field that reads a YAML list as a tuple says so
    (``tuple_from_list``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)


def tuple_from_list(value: Any) -> Any:
    """Before-validator: a YAML or JSON list where the schema has a fixed-length tuple."""
    return tuple(value) if isinstance(value, list) else value


class ConfigLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads numbers as YAML 1.2 does: ``1e-4`` and ``2E5`` are floats
    (PyYAML's YAML 1.1 resolver would read them as strings, which a strict schema rejects)."""


ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    """A YAML document read with :class:`ConfigLoader` (config files, ``--set`` values)."""
    return yaml.load(text, Loader=ConfigLoader)  # noqa: S506 (a SafeLoader subclass)


def _key_path(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the (nested) model that owns the unknown key at ``loc``."""
    current: Any = model
    for part in loc[:-1]:
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = fields[part].annotation
    return list(getattr(current, "model_fields", {}) or [])


def validation_problems(
    err: ValidationError, model: type[BaseModel], source: str
) -> list[Problem]:
    """One problem per pydantic error, with a did-you-mean for unknown keys."""
    problems = []
    for e in err.errors():
        loc = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = _allowed_fields(model, loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            msg = f"unknown key{hint}; allowed: {', '.join(allowed)}"
        else:
            got = e.get("input")
            got_s = f" (got {got!r})" if not isinstance(got, dict) and got is not None else ""
            msg = f"{e['msg']}{got_s}"
        problems.append(Problem(source, _key_path(loc), msg))
    return problems


def parse_model(model: type[BaseModel], data: Any, source: str) -> Any:
    """Validate ``data`` as ``model``; raise ConfigErrors naming ``source`` and each key path."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigErrors(validation_problems(err, model, source)) from None


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping; a missing file or a non-mapping is a one-line ConfigError."""
    path = Path(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: invalid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data
