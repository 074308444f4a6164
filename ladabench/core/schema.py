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
    non-finite numbers (``.inf``, ``.nan``) are refused, instances are frozen. A field that reads
    a YAML list as a tuple says so (``tuple_from_list``). The docstring under a field is its
    ``description`` (what ``docs/example_run.yaml`` prints as the key's comment)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True,
                              allow_inf_nan=False, use_attribute_docstrings=True)


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


#: the largest YAML file ladabench reads (suites, configs, profiles, baselines are a few KB)
MAX_YAML_BYTES = 1 << 20
#: the most nodes a YAML document may expand to through anchors and aliases (an "alias bomb"
#: of 1 KB expands to billions; the largest suite in suites/ has a few hundred)
MAX_YAML_NODES = 100_000


class YAMLLimitError(ValueError):
    """A YAML document larger than ladabench reads (bytes, or nodes after alias expansion)."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """Nodes of ``node`` with every alias expanded (memoised: shared nodes cost their size each
    time they are referenced, as a consumer of the data would pay)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise YAMLLimitError("a recursive anchor (a node that contains itself)")
    open_.add(key)
    if isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        children = []
    total = 1
    for child in children:
        total += _expanded_size(child, sizes, open_)
        if total > MAX_YAML_NODES:
            raise YAMLLimitError(f"more than {MAX_YAML_NODES:,} values once anchors and aliases "
                                 "are expanded")
    open_.discard(key)
    sizes[key] = total
    return total


def parse_yaml(text: str) -> Any:
    """A YAML document read with :class:`ConfigLoader` (config files, ``--set`` values), refusing
    documents that expand beyond ``MAX_YAML_NODES`` (YAMLLimitError)."""
    loader = ConfigLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, set())
        return loader.construct_document(node)
    finally:
        loader.dispose()


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


def read_text(path: str | Path, limit: int = MAX_YAML_BYTES) -> str:
    """The UTF-8 text of a user-given file; a missing file, a folder, a file over ``limit``
    bytes or one that is not UTF-8 text is a one-line ConfigError naming it."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected a YAML file")
    try:
        with open(path, "rb") as f:
            raw = f.read(limit + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    if len(raw) > limit:
        raise ConfigError(f"{path}: larger than {limit:,} bytes; expected a YAML file of a few KB")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset "
                          f"{e.start}); expected a YAML file") from None


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping (suites, run configs, profiles, baselines); any problem with the file
    (missing, a folder, too large, not UTF-8, invalid YAML, an alias bomb, not a mapping) is a
    one-line ConfigError naming it."""
    path = Path(path)
    text = read_text(path)
    try:
        data = parse_yaml(text)
    except YAMLLimitError as e:
        raise ConfigError(f"{path}: refused: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{where}: invalid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data
