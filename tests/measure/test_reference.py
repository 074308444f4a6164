"""ladabench.measure.reference: the matmul rate that throughput is normalised by."""
from ladabench.measure.reference import REFERENCE_NAME, measure_reference, reference_now


def test_reference_rate_follows_the_work(one_torch_thread):
    # a 256² matmul is 64× the multiply-adds of a 64² one: its rate must be far lower (a timer
    # that ignored the work, or timed the wrong size, would not see it)
    small = measure_reference("cpu", size=64, rounds=1)
    large = measure_reference("cpu", size=256, rounds=1)
    assert small > 4 * large > 0


def test_reference_now_is_named_like_the_baselines(monkeypatch):
    monkeypatch.setattr("ladabench.measure.reference.measure_reference", lambda device: 12.5)
    ref = reference_now("cpu")
    assert (ref.name, ref.per_s) == (REFERENCE_NAME, 12.5)
