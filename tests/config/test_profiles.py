"""The example SLURM profile loads and fits the pinned CUDA 13.0 torch wheels."""
from __future__ import annotations

import re
from pathlib import Path

from ladabench.config.profiles import load_profile

EXAMPLE = Path(__file__).resolve().parents[2] / "slurm" / "profiles" / "example-gpu-cluster.yaml"


def test_example_profile_loads_no_cuda_module_next_to_the_wheels():
    """The wheels bundle CUDA 13.0; a site CUDA module (12.4 used to be there) puts another
    runtime's libraries on LD_LIBRARY_PATH."""
    profile = load_profile(EXAMPLE)
    assert profile.partition == "gpu"
    assert not [line for line in profile.setup if re.search(r"module (load|add) cuda", line)]
    assert "CUDA 13.0" in EXAMPLE.read_text()
