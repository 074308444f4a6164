"""The metric registry and ``evaluate``: names, errors, protocol stamps, generator state."""
from __future__ import annotations

import pytest

from ladabench.core.errors import ConfigError, RegistryError
from ladabench.metrics import evaluate, list_metrics

CONTRACT_4_KEYS = {"metric", "extractor", "weights_sha256", "n_gen", "n_real", "real_split", "dataset",
                   "resolution", "standard", "library"}


def test_registered_metrics():
    assert list_metrics() == ["fid", "isc", "kid", "modes", "prc"]


def test_unknown_metric_fails_before_any_work(make_cfg, generators):
    with pytest.raises(RegistryError, match=r"unknown metric 'fdi' \(did you mean 'fid'\?\); available: fid, isc, kid, modes, prc"):
        evaluate(generators[1](), make_cfg(), 10, 10, "cpu", metrics=["fdi"])


def test_unknown_extractor(make_cfg, generators):
    with pytest.raises(ConfigError) as err:
        evaluate(generators[1](), make_cfg(extractor="clip"), 10, 10, "cpu")
    assert str(err.value) == (
        "eval.extractor: unknown extractor 'clip'; available: digits-cnn, inception-v3-compat"
    )


def test_protocol_stamp_and_generator_mode(metrics_cache, make_cfg, generators):
    g = generators[1]()
    g.train()
    cfg = make_cfg(real_split="test")
    with pytest.warns(UserWarning, match="n_real 5000 capped at the 1000 images of the test split"):
        res = evaluate(g, cfg, n_gen=40, n_real=5000, device="cpu", metrics=["fid", "kid"])
    assert g.training  # restored after sampling in eval mode
    fid, kid = res["fid"]["protocol"], res["kid"]["protocol"]
    assert CONTRACT_4_KEYS <= set(fid)
    assert fid["metric"] == "fid" and kid["metric"] == "kid"
    assert (fid["extractor"], fid["standard"], fid["dataset"], fid["real_split"]) == ("digits-cnn", False, "digits", "test")
    assert (fid["n_gen"], fid["n_real"], fid["resolution"]) == (40, 1000, 32)  # n_real capped at the split
    assert fid["n_real_requested"] == 5000  # the cap, recorded (core.protocol.FREE_KEYS)
    assert fid["library"] == "torch-fidelity 0.4.0" and len(fid["weights_sha256"]) == 64
    assert (kid["kid_subsets"], kid["kid_subset_size"]) == (100, 40)
    assert {k: v for k, v in kid.items() if not k.startswith("kid_")} == {**fid, "metric": "kid"}
    assert res["fid"]["std"] is None and res["kid"]["std"] >= 0


@pytest.fixture
def training_precision():
    """The precision settings training may leave on (``train.tf32``, ``train.amp: bf16``)."""
    import torch

    flags = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = flags


def test_same_images_same_features_whatever_the_training_precision(metrics_cache, make_cfg,
                                                                   generators):
    """bf16 autocast changes CPU convolutions; evaluation must not inherit it (nor TF32)."""
    import torch

    cfg = make_cfg(real_split="test")
    strict = evaluate(generators[1](), cfg, n_gen=40, n_real=200, device="cpu", metrics=["fid"])
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        try:
            under_training = evaluate(generators[1](), cfg, n_gen=40, n_real=200, device="cpu",
                                      metrics=["fid"])
            assert torch.backends.cudnn.allow_tf32 and torch.is_autocast_enabled("cpu")  # restored
        finally:
            torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    assert under_training["fid"]["value"] == strict["fid"]["value"]
    assert under_training["fid"]["protocol"] == strict["fid"]["protocol"]
    assert "extractor_device" not in strict["fid"]["protocol"]  # CPU protocols stay as recorded


def test_evaluation_runs_with_tf32_and_autocast_off(make_cfg, generators, monkeypatch,
                                                   training_precision):
    import torch

    from ladabench.metrics import fidelity

    seen = []
    monkeypatch.setattr(fidelity, "compute_fidelity", lambda *a, **k: seen.append((
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
        torch.is_autocast_enabled("cpu"))) or {"fid": 1.0})
    monkeypatch.setattr(fidelity, "real_set", lambda *a: fidelity.RealSet([], 0, "f", "n"))
    evaluate(generators[1](), make_cfg(), 10, 10, "cpu", metrics=["fid"])
    assert seen == [(False, False, False)]
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)


def test_gpu_features_are_stamped_and_cached_apart():
    import torch

    from ladabench.metrics.evaluation import extractor_device

    assert extractor_device(torch.device("cuda", 1)) == {"extractor_device": "cuda"}
    assert extractor_device(torch.device("cpu")) == {}
