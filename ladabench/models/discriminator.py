"""The LadaGAN discriminator with TF semantics (docs/paper.md §6, §13).

img (B, 3, R, R) → Conv3×3 (no bias) → LReLU → downBlocks down to 16×16 → 256 tokens + pos →
transformer block → space_to_depth(2) → Conv3×3(512) → Conv1×1(1024, no bias) → LReLU →
Conv4×4 valid (1, no bias) → 5×5 = 25 patch logits.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ladabench.models.blocks import (
    LRELU_SLOPE,
    DiscriminatorBlock,
    PositionEmbedding,
    batch_norm,
    init_tf_,
    nchw_to_tokens,
    nhwc_to_nchw,
    space_to_depth,
    tokens_to_map,
)
from ladabench.models.presets import Preset

#: D's transformer block always runs on 16×16 tokens
TOKEN_SIDE = 16


class SameConv2d(nn.Conv2d):
    """Conv2d with Keras ``padding='same'`` for inputs whose size the stride divides (every
    LadaGAN map is a power of two). TF pads k - s in total and puts the odd row/column at the
    bottom/right: a 3×3 stride-2 conv pads 0 top/left and 1 bottom/right, where torch's
    ``padding=1`` would pad 1 on both sides and shift the sampling grid by one pixel.

    A symmetric 'same' padding (every stride-1 conv) is the conv's own ``padding``: an explicit
    ``F.pad`` there would make the kernels (and their gradients, R1's double backward included)
    run on the padded map, e.g. 10×10 instead of 8×8 in D's head. Only the asymmetric case pads
    explicitly."""

    def __init__(self, in_ch: int, out_ch: int, kernel: int, stride: int = 1, bias: bool = True):
        total = max(kernel - stride, 0)
        before, after = total // 2, total - total // 2
        native = before if before == after else 0
        super().__init__(in_ch, out_ch, kernel, stride=stride, padding=native, bias=bias)
        self.same_pad = None if before == after else (before, after) * 2  # (left, right, top, bottom)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C, H, W) -> (B, C', H/s, W/s)."""
        return super().forward(x if self.same_pad is None else F.pad(x, self.same_pad))


def _conv_bn_lrelu(conv: nn.Conv2d, channels: int) -> list[nn.Module]:
    return [conv, batch_norm(channels), nn.LeakyReLU(LRELU_SLOPE)]


class DownBlock(nn.Module):
    """TF ``downBlock``: out = (main + direct) / 2, halving the resolution.
    main = Conv3×3 s2 → BN → LReLU → Conv3×3 → BN → LReLU; direct = AvgPool2 → Conv1×1 → BN →
    LReLU; all convs without bias."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            *_conv_bn_lrelu(SameConv2d(in_ch, out_ch, 3, stride=2, bias=False), out_ch),
            *_conv_bn_lrelu(SameConv2d(out_ch, out_ch, 3, bias=False), out_ch),
        )
        self.direct = nn.Sequential(
            nn.AvgPool2d(2), *_conv_bn_lrelu(nn.Conv2d(in_ch, out_ch, 1, bias=False), out_ch)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, C_in, H, W) -> (B, C_out, H/2, W/2)."""
        return (self.main(x) + self.direct(x)) / 2


class Discriminator(nn.Module):
    """LadaGAN discriminator.

    Args:
        preset: the architecture (encoder widths, head widths, block).
        attention: registered attention name of the transformer block.
        attention_options: keyword options for ``build_attention``.
        transformer: False replaces pos emb + transformer block by identity (conv-only D).
    """

    def __init__(self, preset: Preset, attention: str, attention_options: dict | None = None,
                 transformer: bool = True) -> None:
        super().__init__()
        self.resolution = preset.img_size
        enc = preset.d_enc_dim
        self.stem = nn.Sequential(SameConv2d(3, enc[0], 3, bias=False), nn.LeakyReLU(LRELU_SLOPE))
        self.down = nn.ModuleList(DownBlock(a, b) for a, b in zip(enc[:-1], enc[1:]))
        n_tokens = TOKEN_SIDE * TOKEN_SIDE
        self.pos = PositionEmbedding(n_tokens, enc[-1]) if transformer else None
        self.block = (
            DiscriminatorBlock(enc[-1], preset.d_heads, preset.d_mlp, n_tokens, attention,
                               attention_options)
            if transformer else None
        )
        out0, out1 = preset.d_out_dim
        self.head = nn.Sequential(
            SameConv2d(4 * enc[-1], out0, 3),  # no activation after it (reference)
            nn.Conv2d(out0, out1, 1, bias=False),
            nn.LeakyReLU(LRELU_SLOPE),
            nn.Conv2d(out1, 1, 4, bias=False),  # 'valid': 8×8 -> 5×5
        )
        init_tf_(self)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """img: (B, 3, R, R) -> logits (B, 25)."""
        x = self.stem(img)
        for down in self.down:
            x = down(x)
        x = nchw_to_tokens(x)  # (B, 256, C)
        if self.block is not None:
            x = self.block(self.pos(x))
        x = space_to_depth(tokens_to_map(x, TOKEN_SIDE), 2)  # (B, 8, 8, 4C)
        return self.head(nhwc_to_nchw(x)).flatten(1)

    def block_groups(self) -> dict[str, nn.Module]:
        """Named parameter groups for per-block gradient norms; every parameter is in one."""
        groups: dict[str, nn.Module] = {"stem": self.stem}
        groups.update({f"down{i + 1}": d for i, d in enumerate(self.down)})
        if self.block is not None:
            groups["pos"] = self.pos
            groups["block"] = self.block
        groups["head"] = self.head
        return groups
