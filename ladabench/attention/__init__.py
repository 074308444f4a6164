"""Attention variants behind one registry. Importing this package registers every variant."""
from ladabench.attention.base import TokenAttention
from ladabench.attention.registry import (
    ATTENTIONS,
    attention_options,
    build_attention,
    get_attention,
    list_attentions,
    register_attention,
    validate_attention,
)
# importing a variant module runs its @register_attention
from ladabench.attention import (  # noqa: F401
    dot_product,
    fastformer,
    lada,
    linformer,
    swin,
)

__all__ = [
    "ATTENTIONS",
    "TokenAttention",
    "attention_options",
    "build_attention",
    "get_attention",
    "list_attentions",
    "register_attention",
    "validate_attention",
]
