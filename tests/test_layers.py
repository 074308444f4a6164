"""The package's layer rule (docs/architecture.md, "Layers"): which package may import which,
no import cycles (imports inside functions count), torch-free layers that stay torch-free, and
a package a newcomer can read (few loose modules, no huge files)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "ladabench"

#: package → the packages it may import (the picture in docs/architecture.md)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "config": {"core"},
    "results": {"core", "config"},
    "report": {"core", "results", "ladabench"},
    "attention": {"core"},
    "models": {"core", "config", "attention"},
    "data": {"core", "config"},
    "metrics": {"core", "config", "data"},
    "device": {"core"},
    "measure": {"core", "config", "results", "attention", "models", "data", "metrics", "device"},
    "train": {"core", "config", "models", "data", "metrics", "measure", "device"},
    "suite": {"core", "config", "attention", "models", "data", "metrics", "measure"},
    "launch": {"core", "config", "suite", "train", "measure", "models", "data", "metrics", "device"},
    "cli": {"core", "config", "results", "report", "models", "metrics", "measure", "device",
            "train", "suite", "launch", "api"},
    "api": {"config", "train", "measure", "results", "suite"},
    "ladabench": {"core", "config", "results", "report", "attention", "models", "metrics",
                  "train", "suite", "launch", "cli", "measure", "api"},
}
#: importing these loads no torch (result readers, the report, the gate and the CLI's start-up)
TORCH_FREE = ("ladabench", "ladabench.core", "ladabench.config", "ladabench.suite",
              "ladabench.results", "ladabench.results.gate", "ladabench.report.render",
              "ladabench.launch", "ladabench.cli")
MAX_LOOSE_MODULES = 6
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imported(tree: ast.AST) -> list[str]:
    """Every ladabench module named by an import anywhere in the tree (functions included)."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ladabench"):
            names += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("ladabench")]
    return names


def import_graph() -> dict[str, set[str]]:
    """module → modules it imports; importing ``a.b.c`` also runs the package ``a.b``."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        for name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            while name not in mods:
                name = name.rpartition(".")[0]
            parts = name.split(".")
            for i in range(2, len(parts) + 1):
                target = ".".join(parts[:i])
                if target in mods and target != mod and not mod.startswith(target + "."):
                    graph[mod].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while comp[-1:] != [v]:
                comp.append(stack.pop())
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] != "__main__" else "ladabench"


def test_no_import_cycles():
    assert _cycles(import_graph()) == []


def test_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_packages_import_only_the_layers_below_them():
    bad = sorted(f"{mod} imports {dep}" for mod, deps in import_graph().items() for dep in deps
                 if _package(dep) != _package(mod)
                 and _package(dep) not in ALLOWED[_package(mod)])
    assert bad == []


def test_every_package_has_a_place_in_the_layers():
    assert {_package(m) for m in _modules()} == set(ALLOWED)


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_layers_do_not_import_torch(module):
    code = f"import sys, {module}; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, f"{module} imports torch"


def test_few_loose_modules_and_no_huge_files():
    loose = sorted(p.name for p in ROOT.glob("*.py"))
    assert len(loose) <= MAX_LOOSE_MODULES, loose
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
