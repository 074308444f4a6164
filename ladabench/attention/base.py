"""The contract every attention variant implements (docs/attention.md §2).

Symbols: B batch, N tokens, C width, h heads, d = C/h head dim, G = sqrt(N) grid side.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, Mapping

import torch
from pydantic import ConfigDict, ValidationError
from pydantic.dataclasses import dataclass
from torch import nn

from ladabench.core.errors import CapabilityError, ConfigError


def variant_options(cls: type) -> type:
    """Class decorator: ``cls`` becomes a variant's options type, a frozen dataclass whose
    annotated fields are the variant's only options. Values are checked strictly (a YAML
    ``"4"`` is not the integer 4). Validation, MAC counting and suite checks all read it."""
    return dataclass(frozen=True, config=ConfigDict(extra="forbid", strict=True))(cls)


@variant_options
class NoOptions:
    """The options of a variant that has none."""


class TokenAttention(nn.Module):
    """Token mixing ``(B, N, C) -> (B, N, C)`` with a reduced attention map ``(B, h, N)`` on request.

    Subclasses set ``name`` (through ``register_attention``), declare their options once as
    ``Options`` (an ``@variant_options`` dataclass), override ``resolve_options`` for defaults
    that depend on N and ``validate`` for their capability checks (both called by ``__init__``,
    and usable without building, e.g. by suite validation), and implement ``forward`` and the
    closed-form ``mac_formula``.

    Args:
        dim: model width C.
        heads: number of heads h; must divide C.
        seq_len: number of tokens N the layer will see (fixed-length variants depend on it;
            the others check it in ``forward`` only through their options).
        **options: the fields of the variant's ``Options``.
    """

    name: ClassVar[str] = ""
    Options: ClassVar[type] = NoOptions
    #: the layer owns parameters whose shape depends on N (Linformer E/F, Swin masks)
    needs_fixed_seq_len: ClassVar[bool] = False
    #: the layer needs N = G * G (Swin windows)
    needs_square_grid: ClassVar[bool] = False

    def __init__(self, dim: int, heads: int, seq_len: int, **options: Any) -> None:
        super().__init__()
        self.opts = self.options_for(seq_len, options)
        self.validate(dim, heads, seq_len, self.opts)
        self.dim, self.heads, self.seq_len = dim, heads, seq_len
        self.head_dim = dim // heads

    @classmethod
    def option_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls.Options)]

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> Any:
        """``options`` as the variant's ``Options``; unknown names raise ConfigError, values of
        the wrong type or range CapabilityError, each naming the option."""
        unknown = sorted(set(options) - set(cls.option_names()))
        if unknown:
            raise ConfigError(f"attention {cls.name!r}: unknown option(s) {', '.join(unknown)}; "
                              f"available: {', '.join(cls.option_names()) or '(none)'}")
        try:
            return cls.Options(**options)
        except ValidationError as e:
            err = e.errors()[0]
            raise CapabilityError(f"attention {cls.name!r}: option {err['loc'][0]}: {err['msg']} "
                                  f"(got {err['input']!r})") from None

    @classmethod
    def resolve_options(cls, seq_len: int, opts: Any) -> Any:
        """The options in effect for ``seq_len`` tokens (defaults that depend on N filled in)."""
        return opts

    @classmethod
    def options_for(cls, seq_len: int, options: Mapping[str, Any]) -> Any:
        return cls.resolve_options(seq_len, cls.parse_options(options))

    @classmethod
    def validate(cls, dim: int, heads: int, seq_len: int, opts: Any) -> None:
        """Raise CapabilityError if the variant cannot be built for this shape with the
        resolved options ``opts``."""
        if dim <= 0 or heads <= 0 or seq_len <= 0:
            raise CapabilityError(
                f"attention {cls.name!r}: dim, heads and seq_len must be positive, "
                f"got dim={dim}, heads={heads}, seq_len={seq_len}"
            )
        if dim % heads:
            raise CapabilityError(
                f"attention {cls.name!r}: heads={heads} must divide dim={dim}"
            )
        if cls.needs_square_grid and math.isqrt(seq_len) ** 2 != seq_len:
            raise CapabilityError(
                f"attention {cls.name!r} needs a square token grid, got seq_len={seq_len}"
            )

    @classmethod
    def block_defaults(cls, block_index: int) -> dict:
        """Default options for the ``block_index``-th transformer block of a network (0-based,
        counted per network), applied under the user's options. Lets a variant alternate a
        setting between blocks (Swin's shift) without the models knowing variant names."""
        return {}

    def check_input(self, x: torch.Tensor) -> None:
        if self.needs_fixed_seq_len and x.shape[1] != self.seq_len:
            raise CapabilityError(
                f"attention {self.name!r} was built for seq_len={self.seq_len} "
                f"but got {x.shape[1]} tokens"
            )

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Args: x (B, N, C). Returns y (B, N, C), or (y, attn (B, h, N)) if ``return_attn``."""
        raise NotImplementedError

    def macs(self, batch: int, seq_len: int | None = None) -> int:
        """Closed-form multiply-accumulates of one forward (matrix products only, fvcore
        convention, docs/attention.md §2.4, §9) for ``batch`` inputs of ``seq_len`` tokens."""
        return self.mac_formula(batch, seq_len or self.seq_len, self.dim, self.heads, self.opts)

    @classmethod
    def count_macs(cls, batch: int, seq_len: int, dim: int, heads: int, **options: Any) -> int:
        """``macs`` without building: the variant with ``options`` at ``seq_len`` tokens."""
        return cls.mac_formula(batch, seq_len, dim, heads, cls.options_for(seq_len, options))

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts: Any) -> int:
        raise NotImplementedError

    def elementwise_macs(self, batch: int, seq_len: int | None = None) -> int:
        """Element-wise tensor products of the token mixing (e.g. Lada's ``g ⊙ K ⊙ V``), which
        matrix-product counters do not charge but the derived LadaGAN figures include
        (docs/paper.md §12.4). Scalings, softmax and bias/mask additions are not
        counted."""
        return self.elementwise_formula(batch, seq_len or self.seq_len, self.dim, self.heads,
                                        self.opts)

    @classmethod
    def elementwise_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts: Any) -> int:
        return 0

    def options(self) -> dict[str, Any]:
        """The options in effect in this layer (recorded in results)."""
        return dataclasses.asdict(self.opts)

    def extra_repr(self) -> str:
        opts = "".join(f", {k}={v}" for k, v in self.options().items())
        return f"dim={self.dim}, heads={self.heads}, seq_len={self.seq_len}{opts}"
