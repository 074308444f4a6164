"""The ``model`` section of a run config: a registered preset plus the ablation knobs."""
from __future__ import annotations

from typing import Any

from pydantic import Field

from ladabench.core.schema import StrictModel


class ModelConfig(StrictModel):
    """Which architecture to build (see ``ladabench.models.presets``) and which variant of it.

    ``g_attention`` is one registered attention name for all three generator stages, or a list
    of three (8×8, 16×16, 32×32). ``attention_options`` maps an attention name to its keyword
    options (e.g. ``{"linformer": {"k": 32}}``), applied wherever that variant is used.
    ``stage_attention_options`` maps a place (``g8``, ``g16``, ``g32`` for the generator stages,
    ``d`` for the discriminator block) to options for the variant used there, overriding
    ``attention_options`` (e.g. ``{"g16": {"shift": 0}}``). Both apply on top of the variant's own
    per-block defaults (``TokenAttention.block_defaults``: Swin alternates W / SW by block index).
    """

    preset: str = "cifar10_32"
    """registered architecture preset (``ladabench flops`` lists them; plugins add more)"""
    g_attention: str | list[str] = "lada"
    """attention of the generator: one registered name, or three (8×8, 16×16, 32×32 stage)"""
    d_attention: str = "lada"
    """attention of the discriminator's transformer block"""
    attention_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """options per attention name, wherever that variant is used, e.g. {linformer: {k: 32}}"""
    stage_attention_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """options per place (g8, g16, g32, d), over ``attention_options``, e.g. {g16: {shift: 0}}"""
    g_conv: bool = True
    """Conv3×3 after each pixel shuffle in G (reference: on)"""
    g_mlp_residual: bool = False
    """residual around the MLP of the generator block (reference: off, docs/paper.md §4.1)"""
    d_transformer: bool = True
    """keep the Ladaformer block in D; False = conv-only discriminator (ablation)"""
