"""The throughput gate (benchmarks/gate.sh) times a reference commit beside the working tree on
the same machine: it passes the unmodified tree, catches a layer slowed in the working tree, and
refuses a reference it cannot find. Runs on a throwaway git repository holding this checkout's
package and benchmarks, on a small selection (the reference matmul and Lada at 64 tokens, ~0.2 ms
a forward) so it stays fast."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GATE = ROOT / "benchmarks" / "gate.sh"
SELECT = ["-k", "reference or lada-64", "--benchmark-max-time=0.3", "--benchmark-min-rounds=20"]
# appended to the working tree's lada.py: every Lada forward sleeps 5 ms (~25x its time)
SLOWDOWN = """
import time as _time

_forward = LadaAttention.forward


def _slow_forward(self, *args, **kwargs):
    _time.sleep(0.005)
    return _forward(self, *args, **kwargs)


LadaAttention.forward = _slow_forward
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A git repository with one commit: this checkout's package, benchmarks and suites."""
    path = tmp_path_factory.mktemp("gate_repo")
    ignore = shutil.ignore_patterns("__pycache__", ".benchmarks")
    for name in ("ladabench", "benchmarks", "suites"):
        shutil.copytree(ROOT / name, path / name, ignore=ignore)
    git(path, "init", "-q")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "reference")
    return path


def gate(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable}
    return subprocess.run(["bash", str(GATE), "compare", *args, *SELECT], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)


def test_unmodified_tree_passes_against_its_own_commit(repo):
    result = gate(repo, "HEAD")
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"reference {git(repo, 'rev-parse', '--short', 'HEAD')} vs the working tree" in out
    assert "Baseline times rescaled by the in-run reference" in out


def test_layer_slowed_in_the_working_tree_fails_the_gate(repo):
    lada = repo / "ladabench" / "attention" / "lada.py"
    original = lada.read_text()
    lada.write_text(original + SLOWDOWN)
    try:
        result = gate(repo, "HEAD")
    finally:
        lada.write_text(original)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    regressed = out.split("Performance has regressed")[1]
    assert "test_attention_forward[lada-64]" in regressed
    assert "test_reference_matmul" not in regressed


def test_unknown_reference_commit_is_refused_in_one_line(repo):
    result = gate(repo, "0123456789abcdef0123456789abcdef01234567")
    assert result.returncode == 2
    assert "reference commit '0123456789abcdef0123456789abcdef01234567' is not in this clone" \
        in result.stderr
    assert "Performance" not in result.stdout
