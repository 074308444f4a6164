"""Data order as a pure function of (seed, step): resumed runs see exactly the same batches.

Like the TF reference (reshuffle every epoch, ``drop_remainder``): epoch ``e`` is a permutation
drawn from a generator seeded with ``(seed, e)``; step ``k`` (0-based) reads batch
``k mod batches_per_epoch`` of epoch ``k // batches_per_epoch``.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import Sampler

from ladabench.core.errors import ConfigError


class EpochBatchSampler(Sampler[list[int]]):
    """Infinite batch sampler starting at ``start_step``.

    Args:
        n: data set size.
        batch: batch size (must be ≤ n; the last partial batch of each epoch is dropped).
        seed: run seed.
        start_step: index of the first batch to yield (the step a resumed run continues from).
    """

    def __init__(self, n: int, batch: int, seed: int, start_step: int = 0) -> None:
        if batch > n:
            raise ConfigError(f"train.batch_size: {batch} exceeds the data set size {n}")
        self.n, self.batch, self.seed, self.start_step = n, batch, seed, start_step
        self.per_epoch = n // batch

    def permutation(self, epoch: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.n, generator=gen)

    def batch_indices(self, step: int) -> list[int]:
        """Data set indices of the batch read at 0-based ``step``."""
        epoch, k = divmod(step, self.per_epoch)
        return self.permutation(epoch)[k * self.batch : (k + 1) * self.batch].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        epoch, k = divmod(step, self.per_epoch)
        while True:
            perm = self.permutation(epoch)
            for j in range(k, self.per_epoch):
                yield perm[j * self.batch : (j + 1) * self.batch].tolist()
            epoch, k = epoch + 1, 0

    def __len__(self) -> int:  # DataLoader only needs it for len(); the stream is infinite
        return self.per_epoch
