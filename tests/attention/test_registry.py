"""Registry and capability errors of ladabench.attention.registry (and the variants' validate)."""
import pytest
import torch

from ladabench.attention import (
    TokenAttention,
    attention_options,
    build_attention,
    list_attentions,
    register_attention,
    validate_attention,
)
from ladabench.core.errors import CapabilityError, ConfigError, RegistryError


def test_every_variant_is_registered():
    assert list_attentions() == ["dot_product", "fastformer", "lada", "linformer", "swin"]


def test_unknown_name_lists_available_and_suggests():
    with pytest.raises(RegistryError) as err:
        build_attention("linfomer", 32, 4, 64)
    msg = str(err.value)
    assert "unknown attention 'linfomer'" in msg
    assert "did you mean 'linformer'?" in msg
    assert "available: dot_product, fastformer, lada, linformer, swin" in msg


def test_duplicate_registration_raises():
    with pytest.raises(RegistryError, match="attention 'lada' is already registered"):

        @register_attention("lada")
        class Again(TokenAttention):
            pass


def test_registering_a_non_attention_raises():
    with pytest.raises(TypeError, match="not a TokenAttention subclass"):
        register_attention("not_attention")(torch.nn.Linear)
    assert "not_attention" not in list_attentions()


def test_unknown_option_lists_allowed_options():
    with pytest.raises(ConfigError) as err:
        build_attention("swin", 32, 4, 64, windw=4)
    assert str(err.value) == "attention 'swin': unknown option(s) windw; available: window, shift"
    with pytest.raises(ConfigError, match=r"unknown option\(s\) k; available: \(none\)"):
        validate_attention("lada", 32, 4, 64, k=3)


def test_options_per_variant():
    assert attention_options("linformer") == ["k"]
    assert attention_options("fastformer") == ["query_residual"]
    assert attention_options("dot_product") == ["use_sdpa"]


@pytest.mark.parametrize("name", ["lada", "linformer", "fastformer", "swin", "dot_product"])
def test_heads_must_divide_dim(name):
    with pytest.raises(CapabilityError, match="heads=3 must divide dim=32"):
        validate_attention(name, 32, 3, 64)


def test_linformer_wrong_seq_len_at_forward():
    layer = build_attention("linformer", 16, 2, 64)
    with pytest.raises(CapabilityError, match="built for seq_len=64 but got 256 tokens"):
        layer(torch.randn(1, 256, 16))


def test_linformer_k_must_be_below_seq_len():
    with pytest.raises(CapabilityError, match=r"1 <= k < seq_len=64 \(default seq_len // 4 = 16\)"):
        validate_attention("linformer", 16, 2, 64, k=64)


def test_swin_needs_square_grid():
    with pytest.raises(CapabilityError, match="'swin' needs a square token grid, got seq_len=48"):
        build_attention("swin", 16, 2, 48)


def test_swin_window_must_divide_grid():
    with pytest.raises(CapabilityError, match="window 3 does not divide the 8x8 token grid"):
        validate_attention("swin", 16, 2, 64, window=3)
    # 12x12: the default window 8 does not divide 12 either
    with pytest.raises(CapabilityError, match="window 8 does not divide the 12x12 token grid"):
        validate_attention("swin", 16, 2, 144)


def test_swin_shift_values():
    msg = r"shift must be 0 or window // 2 = 2 \(window 4\), got 1"
    with pytest.raises(CapabilityError, match=msg):
        validate_attention("swin", 16, 2, 64, window=4, shift=1)
    with pytest.raises(CapabilityError, match=r"option shift: .*valid integer \(got 2.0\)"):
        validate_attention("swin", 16, 2, 64, window=4, shift=2.0)
    with pytest.raises(CapabilityError, match=r"option window: .*valid integer \(got '4'\)"):
        validate_attention("swin", 16, 2, 64, window="4")  # a quoted YAML value is not coerced


def test_swin_wrong_seq_len_at_forward():
    layer = build_attention("swin", 16, 2, 64)
    with pytest.raises(CapabilityError, match="built for seq_len=64 but got 16 tokens"):
        layer(torch.randn(1, 16, 16))
