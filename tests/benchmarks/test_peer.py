"""benchmarks/peer.py: bad input exits 2 with the reason, a model that is not cifar10_32 exits 1
before anything is timed, and the alternating timer attributes each time to its own function.
(The official port itself is not in the repository; .ci/run times against it.)"""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def peer():
    spec = importlib.util.spec_from_file_location("ladabench_peer_benchmark", ROOT / "benchmarks" / "peer.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_folder_or_dependency_exits_2(peer, tmp_path, capsys):
    assert peer.main(["--official", str(tmp_path / "nowhere")]) == 2
    assert "no model.py (expected the official pytorch/ folder)" in capsys.readouterr().err
    (tmp_path / "model.py").write_text("import einops_that_is_not_installed\n")
    (tmp_path / "diffaug.py").write_text("")
    assert peer.main(["--official", str(tmp_path)]) == 2
    assert "needs 'einops_that_is_not_installed'" in capsys.readouterr().err


def test_too_few_steps_is_a_usage_error(peer, tmp_path):
    with pytest.raises(SystemExit) as e:
        peer.main(["--official", str(tmp_path), "--steps", "3"])
    assert e.value.code == 2


def test_other_parameter_counts_exit_1_before_timing(peer, tmp_path, capsys, one_torch_thread):
    """A stand-in 'official' port with the same constructor signatures but other widths."""
    (tmp_path / "model.py").write_text(
        "from torch import nn\n"
        "class Generator(nn.Linear):\n"
        "    def __init__(self, img_size, dim, noise_dim, heads, mlp_dim):\n"
        "        super().__init__(noise_dim, 3 * img_size * img_size)\n"
        "class Discriminator(nn.Linear):\n"
        "    def __init__(self, enc_dim, out_dim, heads, mlp_dim):\n"
        "        super().__init__(3 * 32 * 32, 25)\n")
    (tmp_path / "diffaug.py").write_text("def DiffAugment(x, policy=''):\n    return x\n")
    assert peer.main(["--official", str(tmp_path), "--batch", "1"]) == 1
    err = capsys.readouterr().err
    assert "not the same model: parameter counts (G, D) differ" in err and "19901647" in err


def test_alternate_flips_the_order_and_times_each_side(peer):
    calls = []

    def slow():
        calls.append("a")
        time.sleep(0.02)

    def fast():
        calls.append("b")

    times = peer.alternate(slow, fast, rounds=5, warmup=1)
    assert calls[:4] == ["a", "b", "b", "a"]  # the order flips every round
    walls = times["wall"]
    assert len(walls[0]) == len(walls[1]) == 5 and len(times["cpu"][0]) == 5
    assert min(walls[0]) >= 0.02 > max(walls[1])
