"""The example run config: every key of :class:`RunConfig` at its default, each with its field
description as a comment, generated from the config classes so that it cannot drift from them
(``docs/example_run.yaml``; ``tests/config/test_example.py`` regenerates and compares it).

    python -m ladabench.config.example docs/example_run.yaml
"""
from __future__ import annotations

import argparse
import re
import textwrap
from typing import Any

import yaml
from pydantic import BaseModel

from ladabench.config.run import RunConfig
from ladabench.core.io import atomic_open

WIDTH = 96
HEADER = """\
# Every key of a run config (`ladabench train CONFIG.yaml`, a suite's `overrides`) at its
# default: the released CIFAR-10 LadaGAN settings, on the bundled digits. A config sets only
# what differs; every key is optional. Generated from ladabench/config/ by
# `python -m ladabench.config.example docs/example_run.yaml`: do not edit by hand.

"""


def _comment(text: str, indent: str) -> list[str]:
    """A field description as ``#`` lines (RST ````code```` as markdown `code`)."""
    flat = " ".join(re.sub(r"``([^`]+)``", r"`\1`", text).split())
    lines = textwrap.wrap(flat, WIDTH - len(indent) - 2, break_on_hyphens=False)
    return [f"{indent}# {line}" for line in lines]


def _value(value: Any) -> str:
    """One YAML flow value (``null``, ``[fid, kid]``, ``{}``, ``0.0002``; tuples as lists)."""
    plain = list(value) if isinstance(value, tuple) else value
    text = yaml.safe_dump(plain, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").strip()


def _lines(model: BaseModel, indent: str = "") -> list[str]:
    """Every field of ``model`` (sections nested and separated by a blank line), each under
    its description."""
    out = []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if out and isinstance(value, BaseModel):
            out.append("")
        out += _comment(field.description or "", indent)
        if isinstance(value, BaseModel):
            out += [f"{indent}{name}:"] + _lines(value, indent + "  ")
        else:
            out.append(f"{indent}{name}: {_value(value)}")
    return out


def example_yaml() -> str:
    """The text of ``docs/example_run.yaml``."""
    return HEADER + "\n".join(_lines(RunConfig())) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write the example run config")
    parser.add_argument("out", help="the file to write, e.g. docs/example_run.yaml")
    args = parser.parse_args(argv)
    with atomic_open(args.out, "w") as f:
        f.write(example_yaml())


if __name__ == "__main__":
    main()
