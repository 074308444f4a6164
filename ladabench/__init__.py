"""ladabench: a benchmark and reproducibility suite for efficient-attention GANs."""
__version__ = "0.1.0"
