"""Build G and D from the ``model`` section of a run config, and check a config without
building (suite validation). Both paths run the same checks, so a combination that
``validate_model_config`` accepts builds, and one it rejects fails with the same error."""
from __future__ import annotations

import math
from typing import NamedTuple

from ladabench.attention import ATTENTIONS, get_attention, validate_attention
from ladabench.attention.registry import check_options
from ladabench.core.errors import CapabilityError, ConfigError
from ladabench.config.model import ModelConfig
from ladabench.config.train import NOISE_DIM
from ladabench.models.discriminator import TOKEN_SIDE, Discriminator
from ladabench.models.generator import STAGE_SIDES, Generator
from ladabench.models.presets import Preset, get_preset

G_PLACES = tuple(f"g{side}" for side in STAGE_SIDES)
D_PLACE = "d"


class Placement(NamedTuple):
    """One attention layer of the model: where, which variant, for what shape."""

    place: str
    key: str  # the config key that chose the variant (``model.g_attention`` / ``model.d_attention``)
    attention: str
    options: dict
    dim: int
    heads: int
    seq_len: int


def g_attentions(cfg: ModelConfig) -> list[str]:
    """The attention name of each generator stage (8×8, 16×16, 32×32)."""
    names = [cfg.g_attention] * 3 if isinstance(cfg.g_attention, str) else list(cfg.g_attention)
    if len(names) != len(STAGE_SIDES):
        raise ConfigError(f"expected one name or a list of {len(STAGE_SIDES)} (8x8, 16x16, 32x32 "
                          f"stages), got {len(names)}", key="model.g_attention")
    return names


def placements(cfg: ModelConfig, preset: Preset) -> list[Placement]:
    """Every attention layer of G (three stages) and D (one block, unless conv-only)."""

    def options(place: str, name: str, block_index: int) -> dict:
        # unknown names get no defaults here; validate_attention reports them with their key
        defaults = get_attention(name).block_defaults(block_index) if name in ATTENTIONS else {}
        return {**defaults,
                **cfg.attention_options.get(name, {}), **cfg.stage_attention_options.get(place, {})}

    out = [
        Placement(place, "model.g_attention", name, options(place, name, i), preset.g_dim[i],
                  preset.g_heads[i], side * side)
        for i, (place, name, side) in enumerate(zip(G_PLACES, g_attentions(cfg), STAGE_SIDES))
    ]
    if cfg.d_transformer:
        out.append(Placement(D_PLACE, "model.d_attention", cfg.d_attention,
                             options(D_PLACE, cfg.d_attention, 0), preset.d_enc_dim[-1],
                             preset.d_heads, TOKEN_SIDE * TOKEN_SIDE))
    return out


def _check_preset(name: str, p: Preset) -> None:
    patch = p.img_size // (STAGE_SIDES[-1] * 2 ** len(p.dec_dim))
    if patch < 1 or patch & (patch - 1) or p.g_dim[-1] % (patch * patch):
        raise ConfigError(f"preset {name!r}: img_size {p.img_size} is not reachable from 32x32 "
                          f"with dec_dim {list(p.dec_dim)} and g_dim {list(p.g_dim)}", key="model.preset")
    if p.img_size != TOKEN_SIDE * 2 ** (len(p.d_enc_dim) - 1):
        raise ConfigError(f"preset {name!r}: d_enc_dim needs log2(img_size/16) + 1 = "
                          f"{int(math.log2(p.img_size / TOKEN_SIDE)) + 1} entries", key="model.preset")


def _check_g_conv(cfg: ModelConfig, p: Preset) -> None:
    """Without the conv after each pixel shuffle the shuffled tokens (C_i/4 channels) enter the
    next stage directly, so its width must be C_i/4."""
    for a, b in zip(p.g_dim[:-1], p.g_dim[1:]):
        if not cfg.g_conv and a // 4 != b:
            raise CapabilityError(
                f"false needs g_dim[i]/4 == g_dim[i+1] (identity after the pixel shuffle), but "
                f"preset {cfg.preset!r} has g_dim {list(p.g_dim)}", key="model.g_conv")


def validate_model_config(cfg: ModelConfig, models: str = "GD") -> Preset:
    """Run every construction-time check of the ``models`` ("G", "D" or "GD") without
    building; return the resolved preset.

    Raises RegistryError (unknown preset/attention), ConfigError (bad key/option) or
    CapabilityError (a variant cannot run at that shape); each names its config key (``key``).
    """
    preset = get_preset(cfg.preset)
    _check_preset(cfg.preset, preset)
    if "G" in models:
        _check_g_conv(cfg, preset)
    for place in cfg.stage_attention_options:
        if place not in (*G_PLACES, D_PLACE):
            raise ConfigError(f"unknown place {place!r}; expected one of "
                              f"{', '.join((*G_PLACES, D_PLACE))}", key="model.stage_attention_options")
    for name, opts in cfg.attention_options.items():
        try:
            check_options(name, opts)
        except ConfigError as e:
            raise type(e)(e.problem.message, key="model.attention_options") from None
    for pl in placements(cfg, preset):
        if ("D" if pl.place == D_PLACE else "G") not in models:
            continue
        try:
            validate_attention(pl.attention, pl.dim, pl.heads, pl.seq_len, **pl.options)
        except ConfigError as e:
            where = f"{pl.place} ({pl.seq_len} tokens, width {pl.dim})"
            raise type(e)(f"{where}: {e.problem.message}", key=pl.key) from None
    return preset


def build_generator(cfg: ModelConfig, noise_dim: int = NOISE_DIM) -> Generator:
    """The generator of ``cfg`` for z of width ``noise_dim`` (a run passes ``train.noise_dim``)."""
    preset = validate_model_config(cfg, models="G")
    g = [pl for pl in placements(cfg, preset) if pl.place in G_PLACES]
    return Generator(preset, noise_dim, [pl.attention for pl in g], [pl.options for pl in g],
                     conv=cfg.g_conv, mlp_residual=cfg.g_mlp_residual)


def build_discriminator(cfg: ModelConfig) -> Discriminator:
    """The discriminator of ``cfg`` (conv-only when ``cfg.d_transformer`` is False)."""
    preset = validate_model_config(cfg, models="D")
    d = [pl for pl in placements(cfg, preset) if pl.place == D_PLACE]
    return Discriminator(preset, cfg.d_attention, d[0].options if d else None,
                         transformer=cfg.d_transformer)
