"""ladabench.core.protocol: which protocol differences make two values incomparable."""
from ladabench.core.protocol import differing_keys, protocol_id

P = {"metric": "fid", "extractor": "inception-v3-compat", "n_gen": 50_000, "n_real": 50_000,
     "library": "torch-fidelity 0.4.0"}


def test_protocol_id_ignores_library_only():
    assert protocol_id(P) == protocol_id({**P, "library": "torch-fidelity 0.5"})
    assert protocol_id(P) != protocol_id({**P, "n_gen": 10_000})
    assert protocol_id(None) == protocol_id({}) == "unknown"


def test_differing_keys_names_every_key_that_changes_the_number():
    other = {**P, "n_gen": 10_000, "library": "x", "seed": 1}
    assert differing_keys(P, other) == ["n_gen", "seed"]
    assert differing_keys(P, {**P, "library": "y"}) == []


def test_a_capped_request_is_comparable_with_asking_for_what_was_used():
    capped = {**P, "n_real": 4_000, "n_real_requested": 50_000}
    assert protocol_id(capped) == protocol_id({**P, "n_real": 4_000})
    assert differing_keys(P, capped) == ["n_real"]
