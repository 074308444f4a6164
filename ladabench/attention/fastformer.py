"""Fastformer additive attention (Wu et al. 2021, arXiv 2108.09084), as the official code.

Official ``wuch15/Fastformer`` ``FastSelfAttention`` (docs/attention.md §5, §10.4):
value = query (no value projection); per head j, from the FULL C-dim vectors,

    alpha_j = softmax_n((Q W_qa + b_qa)[:, j] / sqrt(d))        query pooling, (B, h, N)
    g_j     = sum_n alpha_j[n] Q_j[n]                          global query, (B, h, d)
    P       = K ⊙ g                                            (B, N, C)
    beta_j  = softmax_n((P W_ka + b_ka)[:, j] / sqrt(d))         key pooling over P, (B, h, N)
    p_j     = sum_n beta_j[n] P_j[n]                           global key (pools P, not K)
    Y       = transform(p ⊙ Q) + Q                              ``+ Q`` iff ``query_residual``

The BERT output block of the official wrapper (dense + LayerNorm) is not part of the layer: the
Ladaformer block supplies its own MLP and residuals. With ``query_residual=True`` (default, as
the official code) a pre-norm block computes ``x + transform(.) + Q(LN(x))``
(docs/attention.md §10.4).
"""
from __future__ import annotations

import torch
from torch import nn

from ladabench.attention.base import TokenAttention, variant_options
from ladabench.attention.registry import register_attention
from ladabench.attention.tf_init import mark_fused, orthogonal_init_


@variant_options
class FastformerOptions:
    #: add the query projection Q to the output (official code: True)
    query_residual: bool = True


@register_attention("fastformer")
class FastformerAttention(TokenAttention):
    """Official Fastformer attention; any N.

    Args:
        dim: model width C.
        heads: number of heads h.
        seq_len: number of tokens N (not used by the layer; any N works).
        query_residual: add the query projection Q to the output (official code: True).

    Parameters: ``qk`` = ``Linear(C, 2C)`` (query and key, two orthogonal blocks),
    ``query_att``, ``key_att`` = ``Linear(C, h)``, ``transform`` = ``Linear(C, C)``; total
    ``3C² + 3C + 2(Ch + h)``.

    Map (``return_attn``): ``alpha``, the query-pooling weights ``(B, h, N)`` (sum to 1 over
    tokens), directly comparable with Lada's map. ``beta`` is not returned.
    """

    Options = FastformerOptions

    def __init__(self, dim: int, heads: int, seq_len: int, **options) -> None:
        super().__init__(dim, heads, seq_len, **options)
        self.qk = mark_fused(nn.Linear(dim, 2 * dim), 2)
        self.query_att = nn.Linear(dim, heads)
        self.key_att = nn.Linear(dim, heads)
        self.transform = nn.Linear(dim, dim)
        self.scale = self.head_dim**-0.5
        orthogonal_init_(self)

    def _pool(self, scorer: nn.Linear, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """t (B, N, C) -> weights (B, h, N) (softmax over tokens), pooled (B, h, 1, d)."""
        B, N, C = t.shape
        w = (scorer(t) * self.scale).transpose(1, 2).softmax(dim=-1)  # (B, h, N)
        heads = t.reshape(B, N, self.heads, self.head_dim).transpose(1, 2)  # (B, h, N, d)
        return w, torch.matmul(w.unsqueeze(-2), heads)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Args: x (B, N, C). Returns y (B, N, C), or (y, alpha (B, h, N))."""
        B, N, C = x.shape
        q, k = self.qk(x).chunk(2, dim=-1)  # 2 × (B, N, C)
        alpha, g = self._pool(self.query_att, q)  # g: (B, h, 1, d)
        p = k * g.transpose(1, 2).reshape(B, 1, C)  # (B, N, C)
        _, pooled_key = self._pool(self.key_att, p)  # (B, h, 1, d)
        q_heads = q.reshape(B, N, self.heads, self.head_dim).transpose(1, 2)
        u = (pooled_key * q_heads).transpose(1, 2).reshape(B, N, C)
        y = self.transform(u)
        if self.opts.query_residual:
            y = y + q
        return (y, alpha) if return_attn else y

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts) -> int:
        # query, key 2NC² + scorers 2NCh + two poolings 2NC + transform NC²
        # (docs/attention.md §5.3)
        return batch * seq_len * dim * (3 * dim + 2 * heads + 2)

    @classmethod
    def elementwise_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts) -> int:
        return 2 * batch * seq_len * dim  # p = g ⊙ K and pooled_key ⊙ Q
