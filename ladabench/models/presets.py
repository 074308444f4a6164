"""Architecture presets: the released LadaGAN configs and documented choices where the
reference is UNCONFIRMED (docs/paper.md §5.2, §6.2, §9.1, U5). The registered function name is
the key.

Every preset has three generator token stages (8×8, 16×16, 32×32) and one discriminator
transformer block on 16×16 tokens; the resolution is reached by the conv decoder (``dec_dim``,
one ×2 upsampling per entry) or, when ``dec_dim`` is empty, by depth_to_space patches.
"""
from __future__ import annotations

from dataclasses import dataclass

from ladabench.core.registry import Registry


@dataclass(frozen=True)
class Preset:
    """One LadaGAN architecture (TF ``config.json`` keys).

    Attributes:
        img_size: output resolution R (32, 64, 128 or 256).
        g_dim, g_heads, g_mlp: width, heads and MLP width of the 3 generator stages.
        dec_dim: conv decoder widths (empty: depth_to_space patches up to ``img_size``).
        d_enc_dim: discriminator conv encoder widths; log2(img_size/16) downBlocks.
        d_out_dim: widths of the head convs (Conv3×3 after space_to_depth, Conv1×1).
        d_heads, d_mlp: the discriminator transformer block.
        provenance: where the numbers come from (released config or ladabench's choice).
    """

    img_size: int
    g_dim: tuple[int, int, int]
    g_heads: tuple[int, int, int]
    g_mlp: tuple[int, int, int]
    dec_dim: tuple[int, ...]
    d_enc_dim: tuple[int, ...]
    d_out_dim: tuple[int, int]
    d_heads: int
    d_mlp: int
    provenance: str


PRESETS: Registry = Registry("preset")

_SMALL_G = dict(g_dim=(1024, 256, 64), g_heads=(4, 4, 4), g_mlp=(512, 512, 512))
_D_HEAD = dict(d_out_dim=(512, 1024), d_heads=4, d_mlp=512)


def get_preset(name: str) -> Preset:
    """The preset registered as ``name``; unknown names raise a RegistryError listing all."""
    return PRESETS.get(name)()


def list_presets() -> list[str]:
    return PRESETS.names()


@PRESETS.register()
def cifar10_32() -> Preset:
    """CIFAR-10 32×32: released ``cifar10/config.json`` (no decoder, no patches)."""
    return Preset(
        img_size=32, dec_dim=(), d_enc_dim=(128, 256), **_SMALL_G, **_D_HEAD,
        provenance="released milmor/LadaGAN cifar10/config.json (docs/paper.md §9.1)",
    )


@PRESETS.register()
def celeba_64() -> Preset:
    """CelebA 64×64: released ``celeba_64/config.json`` (2×2 depth_to_space patches)."""
    return Preset(
        img_size=64, dec_dim=(), d_enc_dim=(64, 128, 256), **_SMALL_G, **_D_HEAD,
        provenance="released milmor/LadaGAN celeba_64/config.json (docs/paper.md §9.1)",
    )


@PRESETS.register()
def ffhq_128() -> Preset:
    """FFHQ 128×128: released ``ffhq_128/config.json`` (wider G, conv decoder [128, 64])."""
    return Preset(
        img_size=128, g_dim=(1024, 512, 256), g_heads=(4, 4, 4),
        g_mlp=(512, 512, 512), dec_dim=(128, 64), d_enc_dim=(32, 64, 128, 256), **_D_HEAD,
        provenance="released milmor/LadaGAN ffhq_128/config.json (docs/paper.md §9.1)",
    )


@PRESETS.register()
def bedroom_128() -> Preset:
    """LSUN Bedroom 128×128. UNCONFIRMED (released config unreadable, docs/paper.md U5):
    ladabench uses the TF ``config.py`` comment for 128×128, G widths of CIFAR-10/CelebA,
    conv decoder [32, 16], D encoder [32, 64, 128, 256]."""
    return Preset(
        img_size=128, dec_dim=(32, 16), d_enc_dim=(32, 64, 128, 256), **_SMALL_G, **_D_HEAD,
        provenance="UNCONFIRMED: ladabench choice from TF config.py comments "
        "(dec_dim [32,16], d_enc_dim [32,64,128,256]; docs/paper.md §5.2, U5)",
    )


@PRESETS.register()
def bedroom_128_patch() -> Preset:
    """LSUN Bedroom 128×128, patch alternative. UNCONFIRMED: CIFAR-10/CelebA G with 4×4
    depth_to_space patches (no decoder), D encoder [32, 64, 128, 256]."""
    return Preset(
        img_size=128, dec_dim=(), d_enc_dim=(32, 64, 128, 256), **_SMALL_G, **_D_HEAD,
        provenance="UNCONFIRMED: ladabench choice, 4x4 depth_to_space patches "
        "(docs/paper.md §5.2, U5)",
    )


@PRESETS.register()
def bedroom_256() -> Preset:
    """LSUN Bedroom 256×256. UNCONFIRMED (no config exists, docs/paper.md U5): CIFAR-10/CelebA G
    widths, conv decoder [32, 16, 8] (TF ``config.py`` comment), D encoder [16, 32, 64, 128, 256]
    (5 entries, as the TF code asserts at 256; docs/paper.md §6.2)."""
    return Preset(
        img_size=256, dec_dim=(32, 16, 8), d_enc_dim=(16, 32, 64, 128, 256), **_SMALL_G,
        **_D_HEAD,
        provenance="UNCONFIRMED: ladabench choice from TF config.py comments "
        "(dec_dim [32,16,8]; d_enc_dim [16,32,64,128,256]; docs/paper.md §5.2, §6.2, U5)",
    )


@PRESETS.register()
def compact_32() -> Preset:
    """A LadaGAN for CPUs (ladabench's choice, not a paper architecture): the ``cifar10_32``
    topology (three generator token stages at 8×8, 16×16 and 32×32 with a Conv3×3 after each
    pixel shuffle, one discriminator transformer block on 16×16 tokens, 25 patch logits) with
    1/16 of the generator's token widths, 1/16-1/32 of the discriminator's, and one head in
    the 32×32 stage, where attention over 1,024 tokens costs the quadratic variants the most.
    0.6M generator parameters (0.5M of them in the first Dense), 0.004 GMACs per image: the
    quickstart trains all five attention variants on the digits in minutes, the CI gate three
    seeds."""
    return Preset(
        img_size=32, g_dim=(64, 16, 4), g_heads=(2, 2, 1), g_mlp=(32, 32, 32),
        dec_dim=(), d_enc_dim=(8, 16), d_out_dim=(16, 32), d_heads=2, d_mlp=32,
        provenance="ladabench choice: cifar10_32 topology at 1/16 width for CPUs (quickstart, CI)",
    )
