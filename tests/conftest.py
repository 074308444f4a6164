"""Fixtures shared by the whole test tree."""
import pytest


@pytest.fixture
def one_torch_thread():
    """Run with one torch thread: on a shared 2-core machine OpenMP spin-waits make two threads
    many times slower than one (torch is imported here, not at collection, so that the torch-free
    modules' tests stay torch-free)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
