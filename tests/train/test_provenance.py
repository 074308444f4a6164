"""provenance.json content: git state, versions, scheduler ids."""
from __future__ import annotations

import subprocess
from pathlib import Path

from ladabench.train.provenance import collect_provenance, device_name, git_info


def test_git_info_matches_git_itself():
    repo = Path(__file__).resolve().parent.parent
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    info = git_info()
    assert info["commit"] == head.stdout.strip() and isinstance(info["dirty"], bool)


def test_record_has_seed_hash_versions_and_slurm_ids(monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "123")
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "4")
    p = collect_provenance("cpu", seed=7, config_hash="abc123abc123")
    assert p["seed"] == 7 and p["config_hash"] == "abc123abc123"
    assert p["slurm"] == {"SLURM_JOB_ID": "123", "SLURM_ARRAY_TASK_ID": "4"}
    import torch

    assert p["packages"]["torch"] == torch.__version__.split("+")[0] or p["packages"]["torch"] == torch.__version__
    assert p["device_name"].startswith("CPU ") and p["device_name"] == device_name("cpu")
    assert p["hostname"] and p["python"].count(".") == 2
