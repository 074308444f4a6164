"""Transformer blocks and tensor helpers of LadaGAN, with the TF reference semantics
(docs/paper.md §3, §4, §6, §13).

Symbols: B batch, N tokens (row-major, t = row·G + col), C width, Z noise width, m MLP width.
The token mixer is built through the attention registry; no code here depends on its name.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ladabench.attention import TokenAttention, build_attention
from ladabench.attention.tf_init import orthogonal_init_

#: Keras LayerNormalization epsilon (the PyTorch port uses 1e-5 in D; TF is the reference)
LN_EPS = 1e-6
#: Keras BatchNormalization(momentum=0.99, epsilon=1e-3); torch's momentum weighs the new batch
BN_MOMENTUM, BN_EPS = 0.01, 1e-3
LRELU_SLOPE = 0.2


def init_tf_(module: nn.Module) -> nn.Module:
    """TF init (orthogonal kernels and embeddings, zero biases) for every layer except the
    token-attention layers, which initialise themselves the same way in their constructor (plus
    variant-specific tables, e.g. Swin's relative bias); skipping them avoids doing the QR twice.
    """
    for child in module.children():
        if isinstance(child, TokenAttention):
            continue
        if any(True for _ in child.children()):
            init_tf_(child)
        else:
            orthogonal_init_(child)
    return module


def batch_norm(channels: int) -> nn.BatchNorm2d:
    """BatchNorm with the Keras defaults LadaGAN uses (gamma 1, beta 0)."""
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class PositionEmbedding(nn.Embedding):
    """Keras ``Embedding(N, C)`` added to the tokens; orthogonal init comes from
    ``orthogonal_init_`` (an ``nn.Embedding``), and ``forward`` adds the table without a lookup
    op so FLOP counters see nothing but an add."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        return x + self.weight


class MLP(nn.Sequential):
    """Dense(m) → exact GELU (Keras 'gelu') → Dense(C); dropout 0 as in every LadaGAN config."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class SelfModulatedLayerNorm(nn.Module):
    """SLN(x, z) = LN(x) * gamma(z) + beta(z), LN without affine parameters, eps 1e-6;
    hz = ReLU(Dense_C(z)), gamma = Dense_C(hz), beta = Dense_C(hz). Gamma multiplies directly
    (not 1 + gamma), as in the TF ``SMLayerNormalization``."""

    def __init__(self, dim: int, noise_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=LN_EPS, elementwise_affine=False)
        self.hidden = nn.Linear(noise_dim, dim)
        self.gamma = nn.Linear(dim, dim)
        self.beta = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C), z: (B, Z) -> (B, N, C)."""
        hz = F.relu(self.hidden(z))
        gamma = self.gamma(hz).unsqueeze(1)  # (B, 1, C): broadcast over tokens
        beta = self.beta(hz).unsqueeze(1)
        return self.norm(x) * gamma + beta


def _attend(attn: nn.Module, x: torch.Tensor, return_attn: bool):
    """Run ``attn`` and always return (y, map-or-None)."""
    if return_attn:
        return attn(x, return_attn=True)
    return attn(x), None


class GeneratorBlock(nn.Module):
    """TF ``SMLadaformer``: x1 = x + attn(SLN1(x, z)); out = MLP(SLN2(x1, z)).

    The MLP has no residual in the reference (docs/paper.md §4.1); ``mlp_residual=True`` adds one
    (out = x1 + MLP(...)) for the ablation.
    """

    def __init__(self, dim: int, heads: int, mlp_dim: int, seq_len: int, noise_dim: int,
                 attention: str, attention_options: dict | None = None,
                 mlp_residual: bool = False) -> None:
        super().__init__()
        self.norm1 = SelfModulatedLayerNorm(dim, noise_dim)
        self.attn = build_attention(attention, dim, heads, seq_len, **(attention_options or {}))
        self.norm2 = SelfModulatedLayerNorm(dim, noise_dim)
        self.mlp = MLP(dim, mlp_dim)
        self.mlp_residual = mlp_residual

    def forward(self, x: torch.Tensor, z: torch.Tensor, return_attn: bool = False):
        """x: (B, N, C), z: (B, Z) -> (B, N, C), or (out, attention map) if ``return_attn``."""
        y, maps = _attend(self.attn, self.norm1(x, z), return_attn)
        x = x + y
        out = self.mlp(self.norm2(x, z))
        if self.mlp_residual:
            out = x + out
        return (out, maps) if return_attn else out


class DiscriminatorBlock(nn.Module):
    """TF ``Ladaformer``: pre-LN (affine, eps 1e-6), residuals around attention and MLP."""

    def __init__(self, dim: int, heads: int, mlp_dim: int, seq_len: int, attention: str,
                 attention_options: dict | None = None) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = build_attention(attention, dim, heads, seq_len, **(attention_options or {}))
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = MLP(dim, mlp_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, N, C) -> (B, N, C)."""
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def depth_to_space(x: torch.Tensor, block: int) -> torch.Tensor:
    """TF ``depth_to_space`` on channels-last maps: (B, H, W, C) -> (B, bH, bW, C/b²), where
    out[b·h+i, b·w+j, c] = in[h, w, (i·b + j)·C/b² + c]. (torch ``PixelShuffle`` orders the
    sub-pixels channel-major instead; keeping TF's order makes TF kernels portable as is.)"""
    B, H, W, C = x.shape
    x = x.reshape(B, H, W, block, block, C // block**2)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(B, H * block, W * block, C // block**2)


def space_to_depth(x: torch.Tensor, block: int) -> torch.Tensor:
    """TF ``space_to_depth``, the inverse of :func:`depth_to_space`: (B, H, W, C) ->
    (B, H/b, W/b, b²C)."""
    B, H, W, C = x.shape
    x = x.reshape(B, H // block, block, W // block, block, C)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(B, H // block, W // block, block * block * C)


def tokens_to_map(x: torch.Tensor, side: int) -> torch.Tensor:
    """Row-major tokens (B, N, C) -> channels-last map (B, G, G, C), G = ``side`` = sqrt(N)
    (passed in, so tracing for FLOP counts sees no shape arithmetic)."""
    return x.reshape(x.shape[0], side, side, x.shape[-1])


def nhwc_to_nchw(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, 3, 1, 2)


def nchw_to_tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> row-major tokens (B, H·W, C)."""
    return x.flatten(2).transpose(1, 2)
