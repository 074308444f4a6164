"""The optimised training step equals the step it replaced (fp32, deterministic): forward outputs,
gradients, statistics and states of ``step_reference.py``, compared with the recorded fixture.

Error of one tensor a against its recorded b: ``||a - b|| / max(||b||, rms(key) · sqrt(n))``,
i.e. relative, except that a tensor whose true value is ~0 (a bias in front of BatchNorm or a
softmax) is measured on the scale of its neighbours instead of its own rounding noise. The
tolerances are ≥ 10× the largest error between torch's AVX2 and ``default`` CPU kernels, measured
when the fixture was recorded (forward 5e-6, gradients of the first step 3e-6 (D) and 9e-5 (G,
which sees D after one Adam step: Adam's first update is ±lr, so a gradient at rounding level
can flip its sign), statistics and states after three steps 4e-4). Keys computed after Adam
updates carry that sign-flip noise, hence their looser tolerance; the forward outputs and D's
first gradients are tight, and ``test_a_changed_step_fails`` shows they catch a dropped R1 term
(error 1.0) and the tanh approximation of GELU (1.4e-3).
"""
from __future__ import annotations

import pytest
import torch

from .step_reference import CASES, FIXTURE, compute

#: per recorded key: the largest normalised error allowed
TOLERANCE = {
    "G_forward": 1e-4, "D_forward_eval": 1e-4, "D_grads": 1e-4, "G_grads": 1e-3,
    "stat_rows": 4e-3, "D_state": 3e-3, "G_ema_forward": 4e-3,
}


def _as_list(x) -> list[torch.Tensor]:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def max_error(actual, expected) -> float:
    """The largest normalised error over the tensors of one key (see the module docstring)."""
    a_list, b_list = _as_list(actual), _as_list(expected)
    assert len(a_list) == len(b_list)
    floats = [(a.double(), b.double()) for a, b in zip(a_list, b_list) if b.is_floating_point()]
    n_total = sum(b.numel() for _, b in floats)
    rms = (sum(b.square().sum() for _, b in floats) / max(n_total, 1)).sqrt()
    worst = 0.0
    for a, b in zip(a_list, b_list):
        assert a.shape == b.shape and a.dtype == b.dtype
        if not b.is_floating_point():
            assert torch.equal(a, b)  # e.g. BatchNorm's num_batches_tracked
            continue
        scale = torch.maximum(b.double().norm(), rms * b.numel() ** 0.5)
        worst = max(worst, float((a.double() - b.double()).norm() / scale))
    return worst


@pytest.fixture(scope="module")
def recorded():
    return torch.load(FIXTURE, weights_only=True)


@pytest.mark.parametrize("case", list(CASES))
def test_step_equals_the_recorded_reference(case, recorded):
    now = compute(case)
    assert set(now) == set(recorded[case])
    errors = {k: max_error(now[k], recorded[case][k]) for k in now}
    bad = {k: e for k, e in errors.items() if not e <= TOLERANCE[k]}
    assert not bad, f"{case}: normalised errors above tolerance: {bad}"


def _exact_gelu_replaced_by_tanh(monkeypatch) -> None:
    gelu = torch.nn.functional.gelu
    monkeypatch.setattr(torch.nn.functional, "gelu", lambda x, approximate="none": gelu(x, approximate="tanh"))


def _r1_dropped(monkeypatch) -> None:
    import ladabench.train.steps as steps

    monkeypatch.setattr(steps, "r1_penalty", lambda logits, images: logits.new_zeros(()))


@pytest.mark.parametrize("mutate", [_r1_dropped, _exact_gelu_replaced_by_tanh])
def test_a_changed_step_fails(mutate, recorded, monkeypatch):
    """The comparison has teeth: dropping R1, or the tanh approximation of GELU (a tempting
    'fusion'), moves the first step's gradients of D past 10× their tolerance."""
    mutate(monkeypatch)
    now = compute("paper")
    assert max_error(now["D_grads"], recorded["paper"]["D_grads"]) > 10 * TOLERANCE["D_grads"]
