"""An attention variant of your own, as a plugin file (docs/own_attention.md).

Linear attention of Katharopoulos et al. (2020, "Transformers are RNNs"): the softmax kernel
exp(q·k) is replaced by φ(q)·φ(k) with φ(x) = elu(x) + 1, so the mixing costs O(N·d²) per head
instead of O(N²·d). Registered as ``linear_elu``; a suite or run config that lists this file
under ``plugins:`` can use it anywhere an attention name goes (``model.g_attention``,
``model.d_attention``), with its option under ``model.attention_options.linear_elu``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ladabench import TokenAttention, register_attention
from ladabench.attention.base import variant_options


@variant_options
class LinearEluOptions:
    """The variant's only option: the normaliser's guard against division by zero."""

    eps: float = 1e-6


@register_attention("linear_elu")
class LinearEluAttention(TokenAttention):
    """(B, N, C) -> (B, N, C); the map (B, h, N) is the attention each token receives,
    averaged over the queries."""

    Options = LinearEluOptions

    def __init__(self, dim: int, heads: int, seq_len: int, **options) -> None:
        super().__init__(dim, heads, seq_len, **options)  # parses and validates the options
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        self.check_input(x)
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = F.elu(q) + 1, F.elu(k) + 1  # (B, h, N, d), positive features
        kv = torch.einsum("bhnd,bhne->bhde", k, v)  # (B, h, d, d)
        norm = 1 / (torch.einsum("bhnd,bhd->bhn", q, k.sum(dim=2)) + self.opts.eps)  # (B, h, N)
        y = torch.einsum("bhnd,bhde->bhne", q, kv) * norm[..., None]  # (B, h, N, d)
        y = self.proj(y.transpose(1, 2).reshape(B, N, C))
        if not return_attn:
            return y
        # weight of key m for query n is φ(q_n)·φ(k_m)·norm_n; average over n without N×N
        mean_query = (q * norm[..., None]).mean(dim=2)  # (B, h, d)
        return y, torch.einsum("bhd,bhnd->bhn", mean_query, k)

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts) -> int:
        """qkv 3·N·C², the two d×d products 2·N·C·d, the normaliser N·C, proj N·C²."""
        head_dim = dim // heads
        return batch * seq_len * dim * (4 * dim + 2 * head_dim + 1)
