"""The contract every attention variant implements (attention.md §9).

Symbols: B batch, N tokens, C width, h heads, d = C/h head dim, G = sqrt(N) grid side.
"""
from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from ladabench.core.errors import CapabilityError


class TokenAttention(nn.Module):
    """Token mixing ``(B, N, C) -> (B, N, C)`` with a reduced attention map ``(B, h, N)`` on request.

    Subclasses set ``name`` (through ``register_attention``), override ``validate`` for their
    capability checks (always called by ``__init__``, and usable without building, e.g. by suite
    validation), implement ``forward`` and the closed-form ``count_macs``.

    Args:
        dim: model width C.
        heads: number of heads h; must divide C.
        seq_len: number of tokens N the layer will see (fixed-length variants depend on it;
            the others check it in ``forward`` only through their options).
    """

    name: ClassVar[str] = ""
    #: the layer owns parameters whose shape depends on N (Linformer E/F, Swin masks)
    needs_fixed_seq_len: ClassVar[bool] = False
    #: the layer needs N = G * G (Swin windows)
    needs_square_grid: ClassVar[bool] = False

    def __init__(self, dim: int, heads: int, seq_len: int) -> None:
        super().__init__()
        self.dim, self.heads, self.seq_len = dim, heads, seq_len
        self.head_dim = dim // heads

    @classmethod
    def validate(cls, dim: int, heads: int, seq_len: int, **options) -> None:
        """Raise CapabilityError if the variant cannot be built for this shape/options."""
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
        convention, attention.md §0) for ``batch`` inputs of ``seq_len`` tokens."""
        return self.count_macs(batch, seq_len or self.seq_len, self.dim, self.heads, **self.options())

    @classmethod
    def count_macs(cls, batch: int, seq_len: int, dim: int, heads: int, **options) -> int:
        raise NotImplementedError

    def elementwise_macs(self, batch: int, seq_len: int | None = None) -> int:
        """Element-wise tensor products of the token mixing (e.g. Lada's ``g ⊙ K ⊙ V``), which
        matrix-product counters do not charge but the published LadaGAN MACs include
        (ladagan.md §10). Scalings, softmax and bias/mask additions are not counted."""
        return self.count_elementwise(batch, seq_len or self.seq_len, self.dim, self.heads,
                                      **self.options())

    @classmethod
    def count_elementwise(cls, batch: int, seq_len: int, dim: int, heads: int, **options) -> int:
        return 0

    def options(self) -> dict:
        """The variant options this layer was built with (recorded in results)."""
        return {}

    def extra_repr(self) -> str:
        opts = "".join(f", {k}={v}" for k, v in self.options().items())
        return f"dim={self.dim}, heads={self.heads}, seq_len={self.seq_len}{opts}"
