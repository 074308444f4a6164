"""Registry and capability errors of ladabench.attention.registry (and the variants' validate)."""
import dataclasses
import importlib
import inspect
from pathlib import Path

import pytest
import torch

import ladabench.attention as attention_pkg
from ladabench.attention import (
    ATTENTIONS,
    TokenAttention,
    attention_options,
    build_attention,
    list_attentions,
    register_attention,
    validate_attention,
)
from ladabench.core.errors import CapabilityError, ConfigError, RegistryError

#: modules of ladabench/attention that are infrastructure, not variants
INFRASTRUCTURE = {"__init__", "base", "registry", "tf_init"}


def test_each_variant_module_registers_one_variant_under_its_name():
    """A new variant is one file and one registration: every variant module defines exactly one
    registered TokenAttention, named like the module, and nothing else is registered."""
    folder = Path(attention_pkg.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem not in INFRASTRUCTURE)
    for stem in modules:
        module = importlib.import_module(f"ladabench.attention.{stem}")
        defined = [c for c in vars(module).values() if isinstance(c, type)
                   and issubclass(c, TokenAttention) and c.__module__ == module.__name__]
        assert [c.name for c in defined] == [stem], stem
    assert list_attentions() == modules


@pytest.mark.parametrize("name", list_attentions())
def test_options_are_declared_once_in_the_options_type(name):
    """Options live only in ``Options``: no variant method takes them as its own parameters."""
    cls = ATTENTIONS.get(name)
    assert attention_options(name) == [f.name for f in dataclasses.fields(cls.Options)]
    assert list(inspect.signature(cls.__init__).parameters) == ["self", "dim", "heads", "seq_len",
                                                                "options"]
    for method in ("validate", "mac_formula", "resolve_options"):
        params = set(inspect.signature(getattr(cls, method)).parameters)
        assert not params & set(attention_options(name)), f"{name}.{method} redeclares an option"


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


@pytest.mark.parametrize("name", list_attentions())
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
