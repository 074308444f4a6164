"""Small stand-in G and D with the model contract (forward shapes, ``block_groups``) for testing
the steps without building a LadaGAN."""
from __future__ import annotations

import torch
from torch import nn


class TinyG(nn.Module):
    def __init__(self, noise_dim: int = 4, size: int = 8) -> None:
        super().__init__()
        self.size = size
        self.fc = nn.Linear(noise_dim, 3 * size * size)
        self.out = nn.Conv2d(3, 3, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).reshape(len(z), 3, self.size, self.size)
        return torch.tanh(self.out(x))

    def block_groups(self) -> dict[str, nn.Module]:
        return {"fc": self.fc, "out": self.out}


class TinyD(nn.Module):
    """(B, 3, S, S) -> (B, 25); records the batch of every call."""

    def __init__(self, size: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4 * size * size, 25)
        self.inputs: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.inputs.append(x)
        return self.head(torch.tanh(self.conv(x)).flatten(1))

    def block_groups(self) -> dict[str, nn.Module]:
        return {"conv": self.conv, "head": self.head}


class InvariantD(nn.Module):
    """Logits independent of the image content (0 · mean keeps the input in the graph)."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.linspace(-1, 1, 25))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(len(x), 25) + 0 * x.mean(dim=(1, 2, 3))[:, None]

    def block_groups(self) -> dict[str, nn.Module]:
        return {}


class BrightnessD(InvariantD):
    """Logits shift with the image mean (not invariant to the color policy)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bias.expand(len(x), 25) + x.mean(dim=(1, 2, 3))[:, None]
