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
