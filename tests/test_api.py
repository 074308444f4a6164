"""The public Python API (``import ladabench``): names that resolve to the library's own
functions, and one run trained from Python."""
from __future__ import annotations

import pytest

import ladabench
from ladabench.config import RunConfig
from train.tiny import register_tiny, tiny_overrides

register_tiny()


@pytest.mark.parametrize("name", ladabench.__all__)
def test_every_exported_name_is_the_library_object_of_that_name(name):
    assert getattr(ladabench, name).__name__ == name


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="has no attribute 'trian_config'"):
        ladabench.trian_config  # noqa: B018


def test_train_config_trains_a_run_config_with_overrides(tmp_path, one_torch_thread):
    cfg = RunConfig.model_validate(tiny_overrides(log_every_images=8))
    summary = ladabench.train_config(cfg, tmp_path / "run", sets=["train.images=16"], quiet=True)
    assert (summary["status"], summary["images_seen"], summary["step"]) == ("finished", 16, 2)
    assert summary["config_hash"] != cfg.config_hash()  # the override is part of the experiment
    assert (tmp_path / "run" / "summary.json").exists()
