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


def test_record_has_the_cuda_stack_and_precision_flags(monkeypatch, tmp_path):
    import torch

    import ladabench.train.provenance as provenance

    version = tmp_path / "version"
    version.write_text("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.65.06  "
                       "Release Build  (dvs-builder@U16-I3-B03-4-3)  Sun Jul 27 06:54:38 UTC 2025\n"
                       "GCC version:  gcc version 13.3.0\n")
    monkeypatch.setattr(provenance, "_NVIDIA_DRIVER", version)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91300)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    before = torch.backends.cudnn.allow_tf32
    try:
        torch.backends.cudnn.allow_tf32 = False
        p = collect_provenance("cpu", seed=7, config_hash="abc123abc123")
    finally:
        torch.backends.cudnn.allow_tf32 = before
    assert (p["driver"], p["cudnn"], p["cuda_visible_devices"]) == ("580.65.06", 91300, "1")
    assert p["tf32"] == {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": False}
    assert p["cuda"] == torch.version.cuda


def test_no_nvidia_driver_records_none(monkeypatch, tmp_path):
    import ladabench.train.provenance as provenance

    monkeypatch.setattr(provenance, "_NVIDIA_DRIVER", tmp_path / "absent")
    assert provenance.driver_version() is None
