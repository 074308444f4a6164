"""Standard multi-head self-attention (ViT / timm ``Attention``): softmax(Q Kᵀ / sqrt(d)) V.

qkv bias on, scale ``d^-0.5``, output projection with bias (docs/attention.md §7, §10.5).
``use_sdpa=False`` (default) runs the explicit path; ``use_sdpa=True`` calls
``F.scaled_dot_product_attention`` (same math; ``ladabench.measure.flops`` has an fvcore handle
for it so its MACs are still charged). Maps are only available from the explicit path, so
``return_attn=True`` always runs it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ladabench.attention.base import TokenAttention, variant_options
from ladabench.attention.registry import register_attention
from ladabench.attention.tf_init import mark_fused, orthogonal_init_


@variant_options
class DotProductOptions:
    #: use ``F.scaled_dot_product_attention`` when no map is requested
    use_sdpa: bool = False


@register_attention("dot_product")
class DotProductAttention(TokenAttention):
    """Global multi-head self-attention; any N; map = attention received ``A.mean(-2)``.

    Args:
        dim: model width C.
        heads: number of heads h.
        seq_len: number of tokens N (not used by the layer; any N works).
        use_sdpa: use ``F.scaled_dot_product_attention`` when no map is requested.

    Parameters: ``qkv`` = ``Linear(C, 3C)`` (three orthogonal blocks), ``proj`` =
    ``Linear(C, C)``; total ``4C² + 4C``.

    Map (``return_attn``): ``A.mean(-2)`` ``(B, h, N)``, the mean attention each token receives
    over all queries (sums to 1 over tokens).
    """

    Options = DotProductOptions

    def __init__(self, dim: int, heads: int, seq_len: int, **options) -> None:
        super().__init__(dim, heads, seq_len, **options)
        self.qkv = mark_fused(nn.Linear(dim, 3 * dim), 3)
        self.proj = nn.Linear(dim, dim)
        self.scale = self.head_dim**-0.5
        orthogonal_init_(self)

    def forward(self, x: torch.Tensor, return_attn: bool = False):
        """Args: x (B, N, C). Returns y (B, N, C), or (y, attn (B, h, N))."""
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # (B, h, N, d)
        if self.opts.use_sdpa and not return_attn:
            out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)
            attn = None
        else:
            attn = torch.matmul(q * self.scale, k.transpose(-2, -1)).softmax(dim=-1)  # (B, h, N, N)
            out = torch.matmul(attn, v)
        y = self.proj(out.transpose(1, 2).reshape(B, N, C))
        return (y, attn.mean(dim=-2)) if return_attn else y

    @classmethod
    def mac_formula(cls, batch: int, seq_len: int, dim: int, heads: int, opts) -> int:
        # qkv 3NC² + Q Kᵀ N²C + A V N²C + proj NC²  (docs/attention.md §7.3)
        return batch * (4 * seq_len * dim * dim + 2 * seq_len * seq_len * dim)
