"""ladabench.models.factory: every attention variant × preset × G/D builds and runs or fails at
construction with a CapabilityError, and validate_model_config agrees with construction."""
import pytest
import torch

from ladabench.attention import list_attentions
from ladabench.core.errors import CapabilityError, ConfigError, RegistryError
from ladabench.models import build_discriminator, build_generator, validate_model_config
from ladabench.config.model import ModelConfig

FAST_PRESETS = ["cifar10_32", "celeba_64"]
SLOW_PRESETS = ["ffhq_128", "bedroom_128", "bedroom_128_patch", "bedroom_256"]
MATRIX = [
    pytest.param(p, a, kind, marks=[pytest.mark.slow] if p in SLOW_PRESETS else [])
    for p in FAST_PRESETS + SLOW_PRESETS for a in list_attentions() for kind in "GD"
]


@pytest.mark.parametrize("preset,attention,kind", MATRIX)
def test_variant_matrix(preset, attention, kind, fast_model):
    cfg = dict(preset=preset, g_attention=attention, d_attention=attention)
    try:
        validate_model_config(ModelConfig(**cfg), models=kind)
    except CapabilityError as e:
        with pytest.raises(CapabilityError) as built:
            fast_model(kind, **cfg)
        assert str(built.value) == str(e)
        return
    model = fast_model(kind, **cfg)
    res = int(preset.split("_")[1])
    with torch.no_grad():
        if kind == "G":
            img, maps = model(torch.randn(1, 128), return_attn=True)
            assert img.shape == (1, 3, res, res) and torch.isfinite(img).all()
            assert [m.shape for m in maps] == [(1, 4, 64), (1, 4, 256), (1, 4, 1024)]
        else:
            logits = model(torch.randn(1, 3, res, res))
            assert logits.shape == (1, 25) and torch.isfinite(logits).all()


def test_capability_error_surfaces_at_construction_with_the_config_key():
    # linformer needs 1 <= k < seq_len: k = 64 is fine at 16x16 / 32x32 but not at 8x8
    cfg = ModelConfig(g_attention="linformer", attention_options={"linformer": {"k": 64}})
    with pytest.raises(CapabilityError, match=r"^model\.g_attention: g8 \(64 tokens, "
                                               r"width 1024\): attention 'linformer': k must") as e:
        build_generator(cfg)
    assert e.value.problem.key == "model.g_attention"  # the key as data, for suite locations
    build_discriminator(cfg)  # D runs on 256 tokens: k = 64 is valid there


def test_stage_options_override_variant_options():
    cfg = ModelConfig(g_attention="linformer", attention_options={"linformer": {"k": 64}},
                      stage_attention_options={"g8": {"k": 16}})
    with torch.device("meta"):
        g = build_generator(cfg)
    assert [s.block.attn.options()["k"] for s in g.stages] == [16, 64, 64]


def test_unknown_names_and_keys():
    with pytest.raises(RegistryError, match="unknown preset 'cifar_32'.*did you mean 'cifar10_32'"):
        validate_model_config(ModelConfig(preset="cifar_32"))
    with pytest.raises(RegistryError, match="unknown attention 'ladda'"):
        build_discriminator(ModelConfig(d_attention="ladda"))
    with pytest.raises(ConfigError, match="attention 'lada': unknown option"):
        validate_model_config(ModelConfig(attention_options={"lada": {"k": 3}}))
    with pytest.raises(ConfigError, match="stage_attention_options: unknown place 'g64'"):
        validate_model_config(ModelConfig(stage_attention_options={"g64": {}}))
    with pytest.raises(ConfigError, match=r"model\.g_attention: expected one name or a list of 3"):
        validate_model_config(ModelConfig(g_attention=["lada", "lada"]))


def test_g_conv_off_needs_quarter_widths():
    validate_model_config(ModelConfig(preset="celeba_64", g_conv=False))  # [1024, 256, 64]
    with pytest.raises(CapabilityError, match=r"model\.g_conv: false needs g_dim\[i\]/4"):
        build_generator(ModelConfig(preset="ffhq_128", g_conv=False))  # [1024, 512, 256]


def test_noise_dim_override(meta_build):
    with torch.device("meta"):
        g = build_generator(ModelConfig(), noise_dim=64)
    assert g.noise_dim == 64 and g.dense_in.in_features == 64
    assert g.stages[0].block.norm1.hidden.in_features == 64


def test_swin_shift_alternates_over_generator_stages_and_user_options_win():
    from ladabench.models.factory import placements

    cfg = ModelConfig(g_attention="swin", d_attention="swin")
    shifts = {pl.place: pl.options.get("shift", 0) for pl in placements(cfg, validate_model_config(cfg))}
    assert shifts == {"g8": 0, "g16": "half", "g32": 0, "d": 0}
    cfg = ModelConfig(g_attention="swin", stage_attention_options={"g16": {"shift": 0}})
    g16 = [pl for pl in placements(cfg, validate_model_config(cfg)) if pl.place == "g16"]
    assert g16[0].options["shift"] == 0


@pytest.mark.parametrize("attention", list_attentions())
def test_compact_preset_runs_every_attention_variant(attention):
    """compact_32, the CPU preset of the quickstart: the cifar10_32 topology, every variant."""
    cfg = ModelConfig(preset="compact_32", g_attention=attention)
    G, D = build_generator(cfg), build_discriminator(cfg)
    with torch.no_grad():
        img, maps = G(torch.randn(2, 128), return_attn=True)
        assert img.shape == (2, 3, 32, 32) and torch.isfinite(img).all()
        assert [m.shape for m in maps] == [(2, 2, 64), (2, 2, 256), (2, 1, 1024)]
        assert D(img).shape == (2, 25)
    assert sum(p.numel() for p in G.parameters()) < 2 * 10**6  # cifar10_32: 19.9M
