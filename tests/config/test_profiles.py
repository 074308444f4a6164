"""The example SLURM profiles load; the single-node one fits the pinned CUDA 13.0 torch wheels,
the multi-node one submits a data-parallel run as one task per GPU."""
from __future__ import annotations

import re
from pathlib import Path

from ladabench.config.profiles import load_profile

EXAMPLE = Path(__file__).resolve().parents[2] / "slurm" / "profiles" / "example-gpu-cluster.yaml"
MULTI_NODE = EXAMPLE.with_name("example-multi-node.yaml")


def test_example_profile_loads_no_cuda_module_next_to_the_wheels():
    """The wheels bundle CUDA 13.0; a site CUDA module (12.4 used to be there) puts another
    runtime's libraries on LD_LIBRARY_PATH."""
    profile = load_profile(EXAMPLE)
    assert profile.partition == "gpu"
    assert not [line for line in profile.setup if re.search(r"module (load|add) cuda", line)]
    assert "CUDA 13.0" in EXAMPLE.read_text()


def test_multi_node_example_submits_one_task_per_gpu_on_every_node(tmp_path):
    """The sbatch script submitit writes for a run of 2 nodes x 4 GPUs under the multi-node
    example profile: 8 SLURM tasks, 4 a node, each with the node's GPUs in view."""
    from ladabench.launch import make_executor
    from ladabench.suite import load_suite

    suite = tmp_path / "s.yaml"
    suite.write_text("base: digits\nresources: {nodes: 2, gpus: 4, cpus: 8, mem_gb: 128}\n")
    executor = make_executor("slurm", load_suite(suite, results_root=tmp_path),
                             load_profile(MULTI_NODE))
    sbatch = executor._executor._make_submission_file_text("python -m x", "uid")
    for line in ("--nodes=2", "--ntasks-per-node=4", "--gpus-per-node=4", "--cpus-per-task=8",
                 "--mem=128GB", "--exclusive", "--partition=gpu"):
        assert f"#SBATCH {line}\n" in sbatch, line
    assert "export NCCL_SOCKET_IFNAME=" in sbatch
