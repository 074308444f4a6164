"""Data order as a pure function of (seed, step): resumed runs see exactly the same batches.

Like the TF reference (reshuffle every epoch, ``drop_remainder``): epoch ``e`` is a permutation
drawn from a generator seeded with ``(seed, e)``; step ``k`` (0-based) reads batch
``k mod batches_per_epoch`` of epoch ``k // batches_per_epoch``.

With several processes (docs/distributed.md) every rank computes the same global batch and
reads its own contiguous slice of it (rank r: positions ``r·b … (r+1)·b - 1``, b = batch /
world size): the ranks never overlap, and the global batch of a step does not depend on the
world size, so a run resumed by another number of processes reads the same data.
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import Sampler

from ladabench.core.errors import ConfigError


def check_split(batch: int, world_size: int) -> None:
    """The global batch must split evenly over the processes (one-line ConfigError)."""
    if batch % world_size:
        raise ConfigError(f"train.batch_size: {batch} does not split over {world_size} "
                          f"processes (expected a multiple of {world_size})")


class EpochBatchSampler(Sampler[list[int]]):
    """Infinite batch sampler starting at ``start_step``: this rank's part of each global batch.

    Args:
        n: data set size.
        batch: global batch size (must be ≤ n; the last partial batch of each epoch is dropped).
        seed: run seed.
        start_step: index of the first batch to yield (the step a resumed run continues from).
        rank, world_size: this process's slice (batch / world_size samples) of each batch.
    """

    def __init__(self, n: int, batch: int, seed: int, start_step: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        if batch > n:
            raise ConfigError(f"train.batch_size: {batch} exceeds the data set size {n}")
        check_split(batch, world_size)
        self.n, self.batch, self.seed, self.start_step = n, batch, seed, start_step
        self.per_epoch = n // batch
        self.local = batch // world_size
        self.offset = rank * self.local

    def permutation(self, epoch: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        return torch.randperm(self.n, generator=gen)

    def batch_indices(self, step: int) -> list[int]:
        """Data set indices of the batch read at 0-based ``step``."""
        epoch, k = divmod(step, self.per_epoch)
        return self._mine(self.permutation(epoch), k)

    def _mine(self, perm: torch.Tensor, k: int) -> list[int]:
        """This rank's part of batch ``k`` of the epoch permuted as ``perm``."""
        start = k * self.batch + self.offset
        return perm[start : start + self.local].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        epoch, k = divmod(step, self.per_epoch)
        while True:
            perm = self.permutation(epoch)
            for j in range(k, self.per_epoch):
                yield self._mine(perm, j)
            epoch, k = epoch + 1, 0

    def __len__(self) -> int:  # DataLoader only needs it for len(); the stream is infinite
        return self.per_epoch
