"""Where a training step's random numbers come from (latents, DiffAugment): one draw per sample
of this process's batch, from torch's global generators, whose states checkpoints keep.

In a run on several processes (``train.rank_streams``, docs/distributed.md):
- ``own``: each rank's global generator is re-seeded from ``(seed, rank)`` after the models are
  built (:func:`rank_seed`), and a rank draws for its own samples only;
- ``sliced``: every rank keeps the seed's one stream and draws for the whole global batch,
  keeping its slice (rank r: samples ``r·b … (r+1)·b - 1``), so sample i gets the numbers it
  gets in one process with the global batch.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch


def rank_seed(seed: int, rank: int, *more: int) -> int:
    """The seed of rank ``rank``'s own stream (``more``: e.g. the step a resume at another
    world size starts from): a well-mixed 63-bit value (numpy's SeedSequence), so streams of
    neighbouring seeds and ranks do not overlap."""
    entropy = [seed, rank, *more]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> 1)


@dataclass(frozen=True)
class Draws:
    """Per-sample random tensors for a batch of ``n`` samples (the leading dimension)."""

    #: ranks whose samples are drawn along (1: only this rank's)
    share: int = 1
    #: this rank's slice among them
    index: int = 0
    #: consecutive groups in the batch (e.g. reals then fakes), each sliced alike
    groups: int = 1

    def in_groups(self, groups: int) -> "Draws":
        """For a batch of ``groups`` equal parts, e.g. ``cat([reals, fakes])``: rank r draws
        its slice of each part, as the parts of the global batch line up in one process."""
        return replace(self, groups=groups)

    def _mine(self, t: torch.Tensor, n: int) -> torch.Tensor:
        if self.share == 1:
            return t
        parts = t.view(self.groups, self.share, n // self.groups, *t.shape[1:])
        return parts[:, self.index].reshape(n, *t.shape[1:])

    def randn(self, n: int, *shape: int, device: torch.device) -> torch.Tensor:
        return self._mine(torch.randn(n * self.share, *shape, device=device), n)

    def rand(self, n: int, *shape: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        return self._mine(torch.rand(n * self.share, *shape, dtype=dtype, device=device), n)

    def randint(self, low: int, high: int, n: int, *shape: int,
                device: torch.device) -> torch.Tensor:
        return self._mine(torch.randint(low, high, (n * self.share, *shape), device=device), n)


#: a single process, or a rank with its own stream
OWN = Draws()
