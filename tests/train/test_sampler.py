"""Data order is a function of (seed, step): resuming at step k yields the same batches."""
from __future__ import annotations

import itertools

import pytest

from ladabench.core.errors import ConfigError
from ladabench.train.sampler import EpochBatchSampler


def test_resumed_stream_equals_the_uninterrupted_one():
    full = list(itertools.islice(iter(EpochBatchSampler(10, 3, seed=1)), 12))
    resumed = list(itertools.islice(iter(EpochBatchSampler(10, 3, seed=1, start_step=5)), 7))
    assert resumed == full[5:]
    assert [EpochBatchSampler(10, 3, 1).batch_indices(k) for k in range(12)] == full


def test_each_epoch_is_a_permutation_without_the_remainder_and_reshuffled():
    batches = list(itertools.islice(iter(EpochBatchSampler(10, 3, seed=0)), 6))
    first, second = sum(batches[:3], []), sum(batches[3:], [])
    assert len(set(first)) == 9 and len(set(second)) == 9  # drop_remainder: 3 batches of 3
    assert first != second
    assert EpochBatchSampler(10, 3, 0).batch_indices(0) != EpochBatchSampler(10, 3, 1).batch_indices(0)


def test_batch_larger_than_the_data_set_names_the_key():
    with pytest.raises(ConfigError, match="train.batch_size: 11 exceeds the data set size 10"):
        EpochBatchSampler(10, 11, 0)


def test_ranks_read_disjoint_slices_of_the_same_global_batches_and_resume():
    world = 3
    full = list(itertools.islice(iter(EpochBatchSampler(20, 6, seed=2)), 8))
    ranks = [list(itertools.islice(iter(EpochBatchSampler(20, 6, 2, rank=r, world_size=world)), 8))
             for r in range(world)]
    for step, batch in enumerate(full):
        assert sum((ranks[r][step] for r in range(world)), []) == batch  # in rank order
    resumed = list(itertools.islice(iter(EpochBatchSampler(20, 6, 2, 5, rank=1, world_size=3)), 3))
    assert resumed == ranks[1][5:] == [EpochBatchSampler(20, 6, 2, rank=1, world_size=3)
                                       .batch_indices(k) for k in range(5, 8)]


def test_a_global_batch_that_does_not_split_over_the_ranks_names_the_key():
    with pytest.raises(ConfigError, match=r"train.batch_size: 8 does not split over 3 processes "
                                          r"\(expected a multiple of 3\)"):
        EpochBatchSampler(20, 8, 0, rank=0, world_size=3)
