"""LadaGAN generator and discriminator (TF semantics), architecture presets and the factory
that builds them from the ``model`` section of a run config."""
from ladabench.models.discriminator import Discriminator
from ladabench.models.factory import build_discriminator, build_generator, validate_model_config
from ladabench.models.generator import Generator
from ladabench.models.presets import PRESETS, Preset, get_preset, list_presets

__all__ = [
    "PRESETS",
    "Discriminator",
    "Generator",
    "Preset",
    "build_discriminator",
    "build_generator",
    "get_preset",
    "list_presets",
    "validate_model_config",
]
