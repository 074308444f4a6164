"""Every ``--flag`` an error message tells the user to pass exists in the parser of the
subcommands that can show that message (an error once hinted at ``--inception-weights`` in
``train``, which had no such option)."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ladabench.cli import build_parser

PACKAGE = Path(__file__).resolve().parents[2] / "ladabench"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"ladabench (\w+)")
#: module prefix → the subcommands whose errors it can raise (the longest prefix wins); the
#: run-config layers reach both ``train`` and ``run``
SHOWN_BY = {
    "": ("train", "run"),
    "launch": ("run",), "launch.preflight": ("train", "run"), "launch.elastic": ("train",),
    "suite": ("run",),
    "suite.runfile": ("train",), "suite.plugins": ("train", "run"), "results": ("check",),
    "report": ("report",), "measure": ("bench",), "measure.costs": ("flops",),
    "metrics.assets": ("fetch",), "train.generate": ("generate",), "train.rescore": ("eval",),
    "train.trained": ("generate", "eval"),
}


def _message_strings(tree: ast.AST) -> list[str]:
    """The text of the strings inside ``raise`` statements, ``Problem(...)`` calls and functions
    named ``*message*`` (f-strings with their placeholders dropped)."""
    roots = [n for n in ast.walk(tree) if isinstance(n, ast.Raise)
             or (isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Problem")
             or (isinstance(n, ast.FunctionDef) and "message" in n.name)]
    out = []
    for root in roots:
        for node in ast.walk(root):
            if isinstance(node, ast.JoinedStr):
                out.append(" ".join(v.value for v in node.values if isinstance(v, ast.Constant)))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.append(node.value)
    return out


def hints() -> list[tuple[str, str, str]]:
    """(module, subcommand, flag) for every flag named in an error message."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        if module.startswith("cli."):
            shown = (module.removeprefix("cli."),)
        else:
            prefix = max((p for p in SHOWN_BY if module == p or module.startswith(p + ".") or not p),
                         key=len)
            shown = SHOWN_BY[prefix]
        for text in _message_strings(ast.parse(path.read_text(encoding="utf-8"))):
            for match in FLAG.finditer(text):
                named = COMMAND.findall(text[:match.start()])
                for command in named[-1:] or shown:
                    found.append((module, command, match.group()))
    return sorted(set(found))


def parser_flags() -> dict[str, set[str]]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return {name: {o for a in p._actions for o in a.option_strings} for name, p in sub.choices.items()}


def test_the_walk_finds_the_hints_that_matter():
    found = {(c, f) for _, c, f in hints()}
    assert {("train", "--inception-weights"), ("run", "--inception-weights"),
            ("fetch", "--inception"), ("fetch", "--dataset"), ("run", "--set"),
            ("train", "--allow-plugin")} <= found


@pytest.mark.parametrize("module, command, flag", hints())
def test_every_hinted_flag_exists(module, command, flag):
    assert flag in parser_flags()[command], f"{module}: a message hints {flag} for `ladabench {command}`"
