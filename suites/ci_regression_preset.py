"""Suite plugin of ``ci_regression.yaml``: ``ci_32``, the ``cifar10_32`` topology (three Ladaformer
stages at 8×8/16×16/32×32, one D block on 16×16 tokens) at 1/16 of the widths, so that a
CPU-only CI job trains three seeds in a few minutes. A ladabench choice for the gate, not a paper
architecture."""
from ladabench.models.presets import PRESETS, Preset


@PRESETS.register("ci_32")
def ci_32() -> Preset:
    return Preset(
        img_size=32, noise_dim=128, g_dim=(64, 16, 4), g_heads=(2, 2, 2), g_mlp=(32, 32, 32),
        dec_dim=(), d_enc_dim=(8, 16), d_out_dim=(16, 32), d_heads=2, d_mlp=32,
        provenance="suites/ci_regression_preset.py: CI regression gate preset (ladabench choice)",
    )
