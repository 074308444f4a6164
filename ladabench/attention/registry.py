"""The attention registry: ``@register_attention("name")`` on a TokenAttention subclass, and one
factory ``build_attention(name, dim, heads, seq_len, **options)``."""
from __future__ import annotations

import inspect

from ladabench.attention.base import TokenAttention
from ladabench.core.errors import ConfigError
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
    """The keyword options the variant ``name`` accepts."""
    sig = inspect.signature(ATTENTIONS.get(name).__init__)
    return [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]


def get_attention(name: str) -> type[TokenAttention]:
    """The class registered as ``name``; unknown names raise a RegistryError listing all."""
    return ATTENTIONS.get(name)


def check_options(name: str, options: dict) -> None:
    """Raise ConfigError for an option the variant does not accept."""
    allowed = attention_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"attention {name!r}: unknown option(s) {', '.join(unknown)}; "
            f"available: {', '.join(allowed) or '(none)'}"
        )


def validate_attention(name: str, dim: int, heads: int, seq_len: int, **options) -> None:
    """Capability check without building: raises RegistryError, ConfigError or CapabilityError."""
    cls = get_attention(name)
    check_options(name, options)
    cls.validate(dim, heads, seq_len, **options)


def build_attention(name: str, dim: int, heads: int, seq_len: int, **options) -> TokenAttention:
    """Build the variant ``name`` for ``seq_len`` tokens of width ``dim``."""
    validate_attention(name, dim, heads, seq_len, **options)
    return get_attention(name)(dim, heads, seq_len, **options)
