"""Linformer self-attention (Wang et al. 2020, arXiv 2006.04768), lucidrains order.

Keys and values are projected along the SEQUENCE axis to ``k`` slots after their feature
projection ("project then compress", ``lucidrains/linformer``): ``K' = Eᵀ (X W_K)``,
``V' = Fᵀ (X W_V)`` with ``E, F`` of shape ``(N, k)``, one pair per layer shared by all heads,
no key/value tying (docs/attention.md §4, §10.2).
``head_j = softmax(Q_j K'_jᵀ / sqrt(d)) V'_j``.

Default ``k = N // 4`` (the fairseq/xformers default; ladabench's choice, not the paper's):

=========  ======  ==========
grid       N       default k
=========  ======  ==========
8×8        64      16
16×16      256     64
32×32      1024    256
=========  ======  ==========

The layer owns ``N × k`` parameters, so it only accepts the ``seq_len`` it was built for.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ladabench.attention.base import TokenAttention, variant_options
from ladabench.attention.registry import register_attention
from ladabench.attention.tf_init import mark_fused, orthogonal_init_
from ladabench.core.errors import CapabilityError


def _default_k(seq_len: int) -> int:
    return seq_len // 4


@variant_options
class LinformerOptions:
    #: projected length; None = N // 4; must satisfy 1 <= k < N
    k: int | None = None


@register_attention("linformer")
class LinformerAttention(TokenAttention):
    """Linformer attention with per-layer sequence projections ``E, F`` shared over heads.

    Args:
        dim: model width C.
        heads: number of heads h.
        seq_len: number of tokens N (fixed: ``E``, ``F`` are ``(N, k)``).
        k: projected length; default ``N // 4``; must satisfy ``1 <= k < N``.

    Parameters: ``qkv`` = ``Linear(C, 3C, bias=False)`` (three orthogonal blocks), ``proj_k``,
    ``proj_v`` ``(N, k)`` with uniform(±1/sqrt(k)) init as in lucidrains, ``proj`` =
    ``Linear(C, C)``; total ``4C² + C + 2Nk``.

    Map (``return_attn``): the "attention received" per token of the effective token-to-token
    weights ``W_eff = P Fᵀ`` (``P`` the ``(B, h, N, k)`` softmax), averaged over queries:
    ``P.mean(-2) @ Fᵀ`` → ``(B, h, N)``. It sums to 1 over tokens only if ``F``'s rows do, and
    may be negative (docs/attention.md §4.5).
    """

    needs_fixed_seq_len = True
    Options = LinformerOptions

    def __init__(self, dim: int, heads: int, seq_len: int, **options) -> None:
        super().__init__(dim, heads, seq_len, **options)
        self.k = self.opts.k
        self.qkv = mark_fused(nn.Linear(dim, 3 * dim, bias=False), 3)
        self.proj_k = nn.Parameter(torch.empty(seq_len, self.k))
        self.proj_v = nn.Parameter(torch.empty(seq_len, self.k))
        self.proj = nn.Linear(dim, dim)
        self.scale = self.head_dim**-0.5
        orthogonal_init_(self)
        bound = 1.0 / math.sqrt(self.k)
        nn.init.uniform_(self.proj_k, -bound, bound)
        nn.init.uniform_(self.proj_v, -bound, bound)

    @classmethod
    def resolve_options(cls, seq_len: int, opts: LinformerOptions) -> LinformerOptions:
        return opts if opts.k is not None else LinformerOptions(k=_default_k(seq_len))

    @classmethod
    def validate(cls, dim: int, heads: int, seq_len: int, opts: LinformerOptions) -> None:
        super().validate(dim, heads, seq_len, opts)
        if not 1 <= opts.k < seq_len:
            raise CapabilityError(
                f"attention 'linformer': k must be an integer with 1 <= k < seq_len={seq_len} "
                f"(default seq_len // 4 = {_default_k(seq_len)}), got k={opts.k!r}"
            )

    def _compress(self, t: torch.Tensor, proj: torch.Tensor) -> torch.Tensor:
        """t (B, N, C), proj (N, k) -> (B, k, C). Written as (B, C, N) @ (N, k) so that fvcore's
        matmul handle charges the batch (docs/attention.md §4.6)."""
        return torch.matmul(t.transpose(1, 2), proj).transpose(1, 2)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Args: x (B, N, C). Returns y (B, N, C), or (y, attn (B, h, N))."""
        self.check_input(x)
        B, N, C = x.shape
        h, d = self.heads, self.head_dim
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # 3 × (B, N, C)
        k, v = self._compress(k, self.proj_k), self._compress(v, self.proj_v)  # (B, k, C)
        q = q.reshape(B, N, h, d).transpose(1, 2)  # (B, h, N, d)
        k, v = (t.reshape(B, self.k, h, d).transpose(1, 2) for t in (k, v))  # (B, h, k, d)
        attn = (torch.matmul(q, k.transpose(-2, -1)) * self.scale).softmax(dim=-1)  # (B, h, N, k)
        out = torch.matmul(attn, v).transpose(1, 2).reshape(B, N, C)
        y = self.proj(out)
        if not return_attn:
            return y
        return y, torch.matmul(attn.mean(dim=-2), self.proj_v.t())  # (B, h, N)

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int,
                    opts: LinformerOptions) -> int:
        # qkv 3NC² + compress K, V 2NkC + QK'ᵀ and PV' 2NkC + proj NC²  (docs/attention.md
        # §4.3)
        return batch * (4 * seq_len * dim * dim + 4 * seq_len * opts.k * dim)
