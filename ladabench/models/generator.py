"""The LadaGAN generator with TF semantics (docs/paper.md §5, §13).

z (B, Z) → Dense(64·C0, no bias) → 8×8 tokens + pos → block → [depth_to_space(2) → Conv3×3 →
16×16 tokens + pos → block] × 2 → 32×32 map → conv decoder or depth_to_space patches →
Conv3×3 to RGB (no output activation). The same z feeds the first Dense and every SLN.
"""
from __future__ import annotations

import torch
from torch import nn

from ladabench.models.blocks import (
    LRELU_SLOPE,
    GeneratorBlock,
    PositionEmbedding,
    batch_norm,
    init_tf_,
    depth_to_space,
    nchw_to_tokens,
    nhwc_to_nchw,
    tokens_to_map,
)
from ladabench.models.presets import Preset

#: grid side of the three generator token stages
STAGE_SIDES = (8, 16, 32)


class GeneratorStage(nn.Module):
    """One token stage: [depth_to_space(2) → Conv3×3] (not for the first stage) → + pos → block.

    With ``conv=False`` the shuffled tokens enter the block directly, which needs
    ``in_dim / 4 == dim`` (checked by ``validate_model_config``).
    """

    def __init__(self, in_dim: int | None, dim: int, side: int, block: GeneratorBlock,
                 conv: bool = True) -> None:
        super().__init__()
        self.upsample, self.side = in_dim is not None, side
        self.conv = nn.Conv2d(in_dim // 4, dim, 3, padding=1) if self.upsample and conv else None
        self.pos = PositionEmbedding(side * side, dim)
        self.block = block

    def forward(self, x: torch.Tensor, z: torch.Tensor, return_attn: bool = False):
        """x: (B, N, C_in) -> (B, N', C) (N' = 4N after the first stage)."""
        if self.upsample:
            x = depth_to_space(tokens_to_map(x, self.side // 2), 2)  # (B, 2G, 2G, C_in/4)
            if self.conv is not None:
                x = nchw_to_tokens(self.conv(nhwc_to_nchw(x)))
            else:
                x = x.flatten(1, 2)
        return self.block(self.pos(x), z, return_attn=return_attn)


def conv_decoder(in_dim: int, dec_dim: tuple[int, ...]) -> nn.Sequential:
    """Per width c: nearest Upsample×2 → Conv3×3(c) → BatchNorm (Keras) → LeakyReLU(0.2)."""
    layers: list[nn.Module] = []
    for c in dec_dim:
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(in_dim, c, 3, padding=1),
                   batch_norm(c), nn.LeakyReLU(LRELU_SLOPE)]
        in_dim = c
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """LadaGAN generator.

    Args:
        preset: the architecture (widths, heads, decoder).
        noise_dim: z width (``train.noise_dim``); z feeds the first Dense and every SLN.
        attentions: registered attention name per stage (8×8, 16×16, 32×32).
        attention_options: keyword options per stage for ``build_attention``.
        conv: Conv3×3 after each pixel shuffle (reference: on).
        mlp_residual: residual around the block MLP (reference: off).
    """

    def __init__(self, preset: Preset, noise_dim: int, attentions: list[str],
                 attention_options: list[dict], conv: bool = True,
                 mlp_residual: bool = False) -> None:
        super().__init__()
        self.preset = preset
        self.noise_dim, self.resolution = noise_dim, preset.img_size
        dims = preset.g_dim
        self.dense_in = nn.Linear(self.noise_dim, STAGE_SIDES[0] ** 2 * dims[0], bias=False)
        self.stages = nn.ModuleList()
        for i, side in enumerate(STAGE_SIDES):
            block = GeneratorBlock(dims[i], preset.g_heads[i], preset.g_mlp[i], side * side,
                                   self.noise_dim, attentions[i], attention_options[i],
                                   mlp_residual=mlp_residual)
            self.stages.append(GeneratorStage(dims[i - 1] if i else None, dims[i], side, block,
                                              conv=conv))
        self.patch = preset.img_size // (STAGE_SIDES[-1] * 2 ** len(preset.dec_dim))
        self.decoder = conv_decoder(dims[-1], preset.dec_dim) if preset.dec_dim else None
        out_in = preset.dec_dim[-1] if preset.dec_dim else dims[-1] // self.patch**2
        self.ch_conv = nn.Conv2d(out_in, 3, 3, padding=1)
        init_tf_(self)

    def forward(self, z: torch.Tensor, return_attn: bool = False):
        """z: (B, noise_dim) -> img (B, 3, R, R), or (img, [attn (B, h, N) per stage])."""
        x = self.dense_in(z).reshape(z.shape[0], STAGE_SIDES[0] ** 2, -1)  # (B, 64, C0)
        maps = []
        for stage in self.stages:
            x = stage(x, z, return_attn=return_attn)
            if return_attn:
                x, attn = x
                maps.append(attn)
        x = tokens_to_map(x, STAGE_SIDES[-1])  # (B, 32, 32, C2)
        if self.decoder is not None:
            x = self.decoder(nhwc_to_nchw(x))
        else:
            x = nhwc_to_nchw(depth_to_space(x, self.patch))
        img = self.ch_conv(x)
        return (img, maps) if return_attn else img

    def block_groups(self) -> dict[str, nn.Module]:
        """Named parameter groups for per-block gradient norms; every parameter is in one."""
        groups: dict[str, nn.Module] = {"dense_in": self.dense_in}
        for side, stage in zip(STAGE_SIDES, self.stages):
            if stage.conv is not None:
                groups[f"stage{side}.conv"] = stage.conv
            groups[f"stage{side}.pos"] = stage.pos
            groups[f"stage{side}.block"] = stage.block
        if self.decoder is not None:
            groups["decoder"] = self.decoder
        groups["head"] = self.ch_conv
        return groups
