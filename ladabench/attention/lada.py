"""Lada: linear additive attention (LadaGAN, arXiv 2401.09596; TF ``AdditiveAttention``).

Per head j: alpha_j = softmax_n((Q W_a + b_a)[:, j] / sqrt(d)) from the FULL C-dim query,
g_j = sum_n alpha_j[n] Q_j[n], R_j[n] = g_j * K_j[n] * V_j[n], Y = merge(R) W_O + b_O.
No residual inside the layer (docs/paper.md §2, docs/attention.md §3).
"""
from __future__ import annotations

import torch
from torch import nn

from ladabench.attention.base import TokenAttention
from ladabench.attention.registry import register_attention
from ladabench.attention.tf_init import mark_fused, orthogonal_init_


@register_attention("lada")
class LadaAttention(TokenAttention):
    """Linear additive attention; any N; map = alpha ``(B, h, N)`` (sums to 1 over tokens).

    q, k, v are one fused ``Linear(C, 3C)`` initialised as three orthogonal C×C blocks, which
    equals the reference's three separate ``Dense(C)`` layers.
    """

    def __init__(self, dim: int, heads: int, seq_len: int, **options) -> None:
        super().__init__(dim, heads, seq_len, **options)
        self.qkv = mark_fused(nn.Linear(dim, 3 * dim), 3)
        self.q_attn = nn.Linear(dim, heads)
        self.proj = nn.Linear(dim, dim)
        self.scale = self.head_dim**-0.5
        orthogonal_init_(self)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        B, N, C = x.shape
        h, d = self.heads, self.head_dim
        q, k, v = self.qkv(x).chunk(3, dim=-1)  # 3 × (B, N, C)
        alpha = (self.q_attn(q) * self.scale).transpose(1, 2).softmax(dim=-1)  # (B, h, N)
        q, k, v = (t.reshape(B, N, h, d).transpose(1, 2) for t in (q, k, v))  # (B, h, N, d)
        g = torch.matmul(alpha.unsqueeze(-2), q)  # (B, h, 1, d): global query per head
        r = (g * k * v).transpose(1, 2).reshape(B, N, C)
        y = self.proj(r)
        return (y, alpha) if return_attn else y

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts) -> int:
        # qkv 3NC² + q_attn NCh + pooling NC + proj NC²  (docs/attention.md §3.3)
        return batch * seq_len * dim * (4 * dim + heads + 1)

    @classmethod
    def elementwise_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts) -> int:
        return 2 * batch * seq_len * dim  # g ⊙ K, then ⊙ V
