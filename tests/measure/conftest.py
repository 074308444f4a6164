"""The model-building fixtures of tests/models (meta-device and fast-init builds)."""
from models.conftest import count_bn_stats, fast_model, meta_build  # noqa: F401
