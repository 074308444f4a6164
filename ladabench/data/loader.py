"""The training loader: uint8 batches in the order of a batch sampler, read in the main process
or by worker processes (``data.workers``), copied to the device through pinned memory,
converted to [-1, 1] floats there.

Moving uint8 (a quarter of the float bytes) and converting on the device keeps the host side
cheap; the conversion is :func:`ladabench.data.base.to_float`, the same arithmetic as the
float data set, so the batches equal ``build_dataset``'s bit for bit. Batches arrive in the
sampler's order whatever the number of workers (a resumed run sees the same batches).
"""
from __future__ import annotations

from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ladabench.data.base import ImageDataset, to_float
from ladabench.data.decoded import available_cores

#: most loader workers chosen by default for a folder decoded on access on an accelerator
MAX_DEFAULT_WORKERS = 4


def default_workers(device: torch.device, dataset: Dataset) -> int:
    """0 unless ``dataset`` decodes files on access and ``device`` is an accelerator, then
    ``min(4, cores - 1)``. Reading the decoded cache or an in-memory set in the main process
    costs it less CPU per image than receiving the batches from workers (``ladabench bench
    --data``: 0.02 vs 0.05-0.08 ms per 64² image); on the CPU training itself takes the cores."""
    decodes = isinstance(dataset, ImageDataset) and dataset.source.decodes_on_access
    if device.type == "cpu" or not decodes:
        return 0
    return max(0, min(MAX_DEFAULT_WORKERS, available_cores() - 1))


def image_loader(dataset: Dataset, batch_sampler: Sampler[list[int]], device: torch.device, *,
                 workers: int | None = None, seed: int = 0) -> DataLoader:
    """A DataLoader over ``dataset`` (an ImageDataset is read as uint8) with ``workers``
    processes (None: :func:`default_workers`) and pinned memory when ``device`` is CUDA.

    ``seed`` seeds the loader's own generator: a DataLoader iterator draws a base seed, which
    must not shift the global stream (z, DiffAugment) when a resumed run creates a new iterator.
    """
    if isinstance(dataset, ImageDataset):
        dataset = ImageDataset(dataset.source, dataset.indices, uint8=True)
    workers = default_workers(device, dataset) if workers is None else workers
    return DataLoader(
        dataset, batch_sampler=batch_sampler, num_workers=workers,
        pin_memory=device.type == "cuda", generator=torch.Generator().manual_seed(seed),
    )


def to_device(batch: torch.Tensor, device: torch.device,
              memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """A loader batch on ``device`` as float: an asynchronous copy (from pinned memory), then
    uint8 pixels become [-1, 1] on the device; float batches only move."""
    batch = batch.to(device, non_blocking=True)
    if batch.dtype == torch.uint8:
        batch = to_float(batch)
    return batch.contiguous(memory_format=memory_format)


def device_batches(loader: DataLoader, device: torch.device,
                   memory_format: torch.memory_format = torch.contiguous_format) -> Iterator[torch.Tensor]:
    """The loader's batches as :func:`to_device` delivers them."""
    for batch in loader:
        yield to_device(batch, device, memory_format)
