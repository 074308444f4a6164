"""Suite plugin for tests: a tiny 32×32 preset (same topology as ``cifar10_32``, about 1/16 of
the widths) so that real training runs take seconds on a CPU."""
from ladabench.models.presets import PRESETS, Preset


@PRESETS.register("tiny_32")
def tiny_32() -> Preset:
    return Preset(
        img_size=32, g_dim=(64, 16, 4), g_heads=(2, 2, 2), g_mlp=(32, 32, 32),
        dec_dim=(), d_enc_dim=(8, 16), d_out_dim=(16, 32), d_heads=2, d_mlp=32,
        provenance="tests/suites/tiny_plugin.py: test-only preset",
    )
