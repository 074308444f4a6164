"""Swin (shifted) window attention with relative position bias (Liu et al. 2021).

As ``microsoft/Swin-Transformer`` ``WindowAttention`` + the shift/mask logic of
``SwinTransformerBlock`` (docs/attention.md §6): tokens on a row-major ``G × G`` grid are
cyclically shifted by ``-shift``, partitioned into ``M × M`` windows, attend within their window
(``softmax(q kᵀ / sqrt(d) + bias (+ mask))``, relative-position table ``((2M-1)², h)``,
trunc_normal std 0.02; shifted windows mask cross-region pairs with -100), and are shifted back.

Default window ``M`` (ladabench's choice, docs/attention.md §10.3; the paper's is UNCONFIRMED,
docs/paper.md U2):

=========  ======  ==========  ==============
grid G×G   N       default M   windows nW
=========  ======  ==========  ==============
8×8        64      4           4
16×16      256     8           4
32×32      1024    8           16
=========  ======  ==========  ==============

(rule: M = 8 if G > 8, else G // 2, so a window never covers the whole grid by default).
If ``window >= G`` the effective window is ``M = G`` with shift 0 (one window: global attention
plus relative bias), as in the official code. ``shift`` is 0 (W-MSA), ``M // 2`` (SW-MSA) or
``"half"`` (= ``M // 2`` of the effective window). Each LadaGAN stage has one block, so by default
(``block_defaults``) the shift alternates by block index within a network: generator stages
8×8 / 16×16 / 32×32 get W, SW, W; the discriminator's single block gets W
(docs/attention.md §10.3).
"""
from __future__ import annotations

import math
from typing import Annotated, Literal

import torch
from pydantic import Field
from torch import nn

from ladabench.attention.base import TokenAttention, variant_options
from ladabench.attention.registry import register_attention
from ladabench.attention.tf_init import mark_fused, orthogonal_init_
from ladabench.core.errors import CapabilityError

MASK_VALUE = -100.0


@variant_options
class SwinOptions:
    #: window side M; None = the default of the table above
    window: Annotated[int, Field(ge=1)] | None = None
    #: 0 (W-MSA), M // 2 (SW-MSA) or "half" (= M // 2 of the effective window)
    shift: Annotated[int, Field(ge=0)] | Literal["half"] = 0


def default_window(grid: int) -> int:
    """Default window side for a ``grid × grid`` token grid (table in the module docstring)."""
    return 8 if grid > 8 else max(grid // 2, 1)


def resolve_window(seq_len: int, window: int | None, shift: int | str) -> tuple[int, int | str]:
    """The effective ``(M, shift)``: ``M = min(window, G)``, shift 0 when one window covers G,
    ``"half"`` resolved to ``M // 2``."""
    grid = math.isqrt(seq_len)
    m = default_window(grid) if window is None else window
    if m >= grid:
        return grid, 0
    return m, m // 2 if shift == "half" else shift


def relative_position_index(m: int) -> torch.Tensor:
    """(M², M²) long: index into the ((2M-1)², h) bias table for every (query, key) pair."""
    coords = torch.stack(torch.meshgrid(torch.arange(m), torch.arange(m), indexing="ij"))
    coords = coords.flatten(1)  # (2, M²): (row, col) of each token in the window
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (m - 1)  # (M², M², 2)
    return rel[..., 0] * (2 * m - 1) + rel[..., 1]


def window_partition(x: torch.Tensor, m: int) -> torch.Tensor:
    """x (B, G, G, C) -> (B·nW, M², C), windows batch-major then row-major."""
    B, G, _, C = x.shape
    x = x.view(B, G // m, m, G // m, m, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, m * m, C)


def window_reverse(w: torch.Tensor, m: int, grid: int) -> torch.Tensor:
    """w (B·nW, M², C) -> (B, G, G, C); inverse of ``window_partition``."""
    C = w.shape[-1]
    x = w.view(-1, grid // m, grid // m, m, m, C).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, grid, grid, C)


def shift_mask(grid: int, m: int, shift: int) -> torch.Tensor:
    """(nW, M², M²) additive mask: 0 for pairs in the same region after the roll, -100 else."""
    labels = torch.zeros(1, grid, grid, 1)
    cuts = (slice(0, -m), slice(-m, -shift), slice(-shift, None))
    for i, (rows, cols) in enumerate((r, c) for r in cuts for c in cuts):
        labels[:, rows, cols, :] = i
    ids = window_partition(labels, m).squeeze(-1)  # (nW, M²)
    diff = ids[:, None, :] - ids[:, :, None]
    return torch.zeros_like(diff).masked_fill(diff != 0, MASK_VALUE)


@register_attention("swin")
class SwinAttention(TokenAttention):
    """(Shifted) window attention on a square grid; map = attention received ``(B, h, N)``.

    Args:
        dim: model width C.
        heads: number of heads h.
        seq_len: number of tokens N = G²; G must be divisible by the effective window.
        window: window side M (default: module docstring table).
        shift: 0, ``M // 2`` or ``"half"`` (= ``M // 2``).

    Parameters: ``qkv`` = ``Linear(C, 3C)`` (three orthogonal blocks), ``proj`` =
    ``Linear(C, C)``, ``relative_position_bias_table`` ``((2M-1)², h)``; total
    ``4C² + 4C + (2M-1)² h``.

    Map (``return_attn``): mean over all N queries of the block-diagonal ``(B, h, N, N)``
    attention (each window's column sums / N), in the original token order; sums to 1 over tokens
    like the dot-product map ``A.mean(-2)``.
    """

    needs_fixed_seq_len = True
    needs_square_grid = True
    Options = SwinOptions

    def __init__(self, dim: int, heads: int, seq_len: int, **options) -> None:
        super().__init__(dim, heads, seq_len, **options)
        self.grid = math.isqrt(seq_len)
        self.window, self.shift = self.opts.window, self.opts.shift
        m = self.window
        self.qkv = mark_fused(nn.Linear(dim, 3 * dim), 3)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * m - 1) ** 2, heads))
        self.register_buffer("rel_index", relative_position_index(m), persistent=False)
        mask = shift_mask(self.grid, m, self.shift) if self.shift else None
        self.register_buffer("attn_mask", mask, persistent=False)
        self.scale = self.head_dim**-0.5
        orthogonal_init_(self)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    @classmethod
    def resolve_options(cls, seq_len: int, opts: SwinOptions) -> SwinOptions:
        m, s = resolve_window(seq_len, opts.window, opts.shift)
        return SwinOptions(window=m, shift=s)

    @classmethod
    def validate(cls, dim: int, heads: int, seq_len: int, opts: SwinOptions) -> None:
        super().validate(dim, heads, seq_len, opts)
        grid = math.isqrt(seq_len)
        m, s = opts.window, opts.shift
        if grid % m:
            raise CapabilityError(
                f"attention 'swin': window {m} does not divide the {grid}x{grid} token grid; "
                f"use a window that divides {grid}"
            )
        if s not in (0, m // 2):
            raise CapabilityError(
                f"attention 'swin': shift must be 0 or window // 2 = {m // 2} (window {m}), "
                f"got {s!r}"
            )

    def _bias(self) -> torch.Tensor:
        """(h, M², M²) relative position bias."""
        n = self.window**2
        bias = self.relative_position_bias_table[self.rel_index.view(-1)]
        return bias.view(n, n, -1).permute(2, 0, 1)

    def _window_attention(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """w (B·nW, M², C) -> out (B·nW, M², C), attn (B·nW, h, M², M²)."""
        Bw, n, C = w.shape
        qkv = self.qkv(w).reshape(Bw, n, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B·nW, h, M², d)
        attn = torch.matmul(q * self.scale, k.transpose(-2, -1)) + self._bias()
        if self.attn_mask is not None:
            nw = self.attn_mask.shape[0]
            attn = attn.view(Bw // nw, nw, self.heads, n, n) + self.attn_mask[None, :, None]
            attn = attn.view(Bw, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        return torch.matmul(attn, v).transpose(1, 2).reshape(Bw, n, C), attn

    def _unshift(self, windows: torch.Tensor) -> torch.Tensor:
        """(B·nW, M², c) in shifted window order -> (B, N, c) in the original token order."""
        x = window_reverse(windows, self.window, self.grid)
        if self.shift:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        return x.reshape(x.shape[0], self.seq_len, -1)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Args: x (B, N, C). Returns y (B, N, C), or (y, attn (B, h, N))."""
        self.check_input(x)
        B, N, C = x.shape
        x = x.view(B, self.grid, self.grid, C)
        if self.shift:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        out, attn = self._window_attention(window_partition(x, self.window))
        y = self._unshift(self.proj(out))
        if not return_attn:
            return y
        received = attn.sum(dim=-2).transpose(1, 2) / N  # (B·nW, M², h)
        return y, self._unshift(received).transpose(1, 2)

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts: SwinOptions) -> int:
        m = opts.window
        # qkv 3NC² + q kᵀ and A v 2NM²C + proj NC²  (docs/attention.md §6.3, M = min(M, G))
        return batch * (4 * seq_len * dim * dim + 2 * seq_len * m * m * dim)

    @classmethod
    def block_defaults(cls, block_index: int) -> dict:
        # one block per stage: alternate W-MSA / SW-MSA so neighbouring stages' windows differ
        return {"shift": "half"} if block_index % 2 else {}
