"""The attention registry: ``@register_attention("name")`` on a TokenAttention subclass, and one
factory ``build_attention(name, dim, heads, seq_len, **options)``."""
from __future__ import annotations

from ladabench.attention.base import TokenAttention
from ladabench.core.registry import Registry


def _check(cls: type) -> None:
    if not (isinstance(cls, type) and issubclass(cls, TokenAttention)):
        raise TypeError(f"{cls!r} is not a TokenAttention subclass")


ATTENTIONS: Registry[type[TokenAttention]] = Registry("attention", check=_check)


def register_attention(name: str):
    """Class decorator: register ``cls`` under ``name`` and set ``cls.name``."""

    def deco(cls: type[TokenAttention]) -> type[TokenAttention]:
        ATTENTIONS.register(name)(cls)
        cls.name = name
        return cls

    return deco


def list_attentions() -> list[str]:
    return ATTENTIONS.names()


def attention_options(name: str) -> list[str]:
    """The option names the variant ``name`` accepts (the fields of its ``Options``)."""
    return ATTENTIONS.get(name).option_names()


def get_attention(name: str) -> type[TokenAttention]:
    """The class registered as ``name``; unknown names raise a RegistryError listing all."""
    return ATTENTIONS.get(name)


def check_options(name: str, options: dict) -> None:
    """Raise ConfigError for an option the variant does not accept, CapabilityError for a value
    of the wrong type or range."""
    ATTENTIONS.get(name).parse_options(options)


def validate_attention(name: str, dim: int, heads: int, seq_len: int, **options) -> None:
    """Capability check without building: raises RegistryError, ConfigError or CapabilityError."""
    cls = get_attention(name)
    cls.validate(dim, heads, seq_len, cls.options_for(seq_len, options))


def build_attention(name: str, dim: int, heads: int, seq_len: int, **options) -> TokenAttention:
    """Build the variant ``name`` for ``seq_len`` tokens of width ``dim``."""
    return get_attention(name)(dim, heads, seq_len, **options)
