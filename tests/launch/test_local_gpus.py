"""The local executor passes a suite's GPUs: a submitit local job sees ``CUDA_VISIBLE_DEVICES``
= its own GPUs (submitit's default is an empty value, which hides every GPU), and parallel
local jobs get disjoint GPUs."""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from ladabench.core.errors import ConfigError
from ladabench.launch import make_executor, run_suite
from ladabench.launch.launcher import local_gpu_groups
from ladabench.suite import load_suite

TINY = Path(__file__).resolve().parents[1] / "suites" / "tiny.yaml"


#: what the job reads, pickled by reference (a function of this test module would not be
#: importable in the job's process)
visible_devices = functools.partial(os.getenv, "CUDA_VISIBLE_DEVICES")


@pytest.mark.parametrize("visible, expected", [(None, "0,1"), ("4,6,7", "4,6")])
def test_a_submitit_local_job_sees_the_suites_gpus(tmp_path, monkeypatch, visible, expected):
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    suite = load_suite(TINY, sets=["resources.gpus=2"], results_root=tmp_path)
    job = make_executor("local", suite, None).submit(visible_devices)
    assert job.results() == [expected, expected]  # one process per GPU, each sees both


def test_a_cpu_suite_hides_the_gpus(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    suite = load_suite(TINY, results_root=tmp_path)
    assert make_executor("local", suite, None).submit(visible_devices).result() == ""


def test_parallel_local_jobs_get_disjoint_gpus(tmp_path, monkeypatch):
    import ladabench.launch.launcher as launch_mod

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    submitted = []

    class Done:
        def done(self) -> bool:
            return True

        def results(self) -> list[dict]:
            return [{"status": "finished"}]

    class Executor:
        visible: tuple[int, ...] = ()

        def update_parameters(self, visible_gpus: tuple[int, ...]) -> None:
            self.visible = visible_gpus

        def submit(self, job):
            submitted.append(self.visible)
            return Done()

    monkeypatch.setattr(launch_mod, "make_executor", lambda kind, suite, prof: Executor())
    plugin = TINY.parent / "tiny_plugin.py"
    three = tmp_path / "three.yaml"
    three.write_text(TINY.read_text().replace("[lada, swin]", "[lada, swin, dot_product]")
                     .replace("[tiny_plugin.py]", f"[{plugin}]"))
    assert run_suite(three, "local", max_parallel=2, sets=["resources.gpus=1"],
                     results_root=tmp_path / "results", allow_plugins=(plugin,),
                     log=lambda s: None) == 0
    assert submitted == [(3,), (5,), (3,)]  # the third run gets the GPU the first one freed


def test_too_few_visible_gpus_is_one_line(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1,2")
    assert local_gpu_groups(1, 3) == [(0,), (1,), (2,)]
    with pytest.raises(ConfigError, match=r"^resources.gpus: 2 parallel runs x 2 GPUs need 4 "
                                          r"GPUs, CUDA_VISIBLE_DEVICES='0,1,2' lists 3$"):
        local_gpu_groups(2, 2)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-1a2b")
    with pytest.raises(ConfigError, match="expected integer GPU ids"):
        local_gpu_groups(1, 1)


def test_too_few_gpus_for_the_parallel_runs_stops_before_anything_is_written(tmp_path,
                                                                              monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    with pytest.raises(ConfigError, match="2 parallel runs x 1 GPUs need 2 GPUs"):
        run_suite(TINY, "local", max_parallel=2, sets=["resources.gpus=1"],
                  results_root=tmp_path / "results", log=lambda s: None)
    assert not (tmp_path / "results").exists()
