"""A model preset of your own, as a plugin file (docs/own_preset.md).

``my_compact_32``: the ``compact_32`` CPU LadaGAN (the ``cifar10_32`` topology at 1/16 width)
with two heads in every generator stage and 8-wide tokens at 32×32 instead of 4. A suite or run
config that lists this file under ``plugins:`` selects it with ``model.preset: my_compact_32``.
"""
from ladabench.models.presets import PRESETS, Preset


@PRESETS.register("my_compact_32")
def my_compact_32() -> Preset:
    return Preset(
        img_size=32,              # output resolution: data.resolution must be 32
        g_dim=(64, 16, 8),        # token width of the 8×8, 16×16 and 32×32 generator stages
        g_heads=(2, 2, 2),        # heads per stage (each must divide its width)
        g_mlp=(32, 32, 32),       # MLP width per stage
        dec_dim=(),               # no conv decoder: the 32×32 stage is the image
        d_enc_dim=(8, 16),        # discriminator conv encoder widths (log2(32/16) + 1 entries)
        d_out_dim=(16, 32),       # discriminator head convs
        d_heads=2, d_mlp=32,      # the discriminator's transformer block on 16×16 tokens
        provenance="docs/examples/my_preset.py: compact_32 with two heads and 8-wide 32×32 tokens",
    )
