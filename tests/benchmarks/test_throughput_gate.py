"""The throughput gate (benchmarks/gate.sh) catches a deliberately slowed layer and passes the
unmodified code. Runs pytest-benchmark in subprocesses on a small selection (the reference and
Lada at 64 tokens, ~0.2 ms a forward) so it stays fast."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SELECT = ["-k", "reference or lada-64", "--benchmark-max-time=0.3", "--benchmark-min-rounds=20"]


def gate(mode, storage, *, slow=False):
    env = {**os.environ, "PYTHON": sys.executable}
    plugin = []
    if slow:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
        plugin = ["-p", "ladabench_slow_layer"]
    return subprocess.run(["bash", str(ROOT / "benchmarks" / "gate.sh"), mode, str(storage),
                           *SELECT, *plugin], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def storage(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench")
    saved = gate("save", path)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    assert list(path.rglob("0001_ci.json"))
    return path


def test_unmodified_code_passes_the_gate(storage):
    result = gate("compare", storage)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Baseline times rescaled by the in-run reference" in result.stdout + result.stderr


def test_slowed_layer_fails_the_gate(storage):
    result = gate("compare", storage, slow=True)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Performance has regressed" in out
    assert "test_attention_forward[lada-64]" in out.split("Performance has regressed")[1]
    assert "test_reference_matmul" not in out.split("Performance has regressed")[1]
