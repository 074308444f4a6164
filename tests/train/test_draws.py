"""Per-sample random draws: ``sliced`` ranks together draw exactly one process's numbers."""
from __future__ import annotations

import torch

from ladabench.train.diffaug import diff_augment
from ladabench.train.draws import OWN, Draws, rank_seed

CPU = torch.device("cpu")


def _sliced(world: int, draw) -> list[torch.Tensor]:
    """What each of ``world`` sliced ranks draws, every rank starting from the same state."""
    out = []
    for rank in range(world):
        torch.manual_seed(5)
        out.append(draw(Draws(share=world, index=rank)))
    return out


def test_sliced_ranks_draw_the_slices_of_one_process_draws():
    torch.manual_seed(5)
    whole = OWN.randn(6, 4, device=CPU), OWN.randint(0, 9, 6, 1, device=CPU)
    parts = _sliced(3, lambda d: (d.randn(2, 4, device=CPU), d.randint(0, 9, 2, 1, device=CPU)))
    for i in range(2):
        assert torch.equal(torch.cat([p[i] for p in parts]), whole[i])


def test_grouped_draws_give_each_rank_its_reals_and_its_fakes():
    """bCR augments cat([reals, fakes]): rank r's slice of each half, as one process's."""
    torch.manual_seed(5)
    whole = OWN.in_groups(2).rand(8, 1, dtype=torch.float32, device=CPU)  # 4 reals, 4 fakes
    parts = _sliced(2, lambda d: d.in_groups(2).rand(4, 1, dtype=torch.float32, device=CPU))
    assert torch.equal(torch.cat([parts[0][:2], parts[1][:2]]), whole[:4])
    assert torch.equal(torch.cat([parts[0][2:], parts[1][2:]]), whole[4:])


def test_diffaugment_of_sliced_ranks_is_one_process_augmentation():
    x = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    policies = ("color", "translation", "cutout")
    torch.manual_seed(5)
    whole = diff_augment(x, policies)
    parts = _sliced(2, lambda d: diff_augment(x[d.index * 2:(d.index + 1) * 2], policies, d))
    torch.testing.assert_close(torch.cat(parts), whole, rtol=0, atol=1e-6)


def test_own_streams_differ_between_ranks_and_seeds():
    seeds = {rank_seed(s, r) for s in (0, 1) for r in (0, 1, 2)}
    assert len(seeds) == 6 and all(0 <= s < 2**63 for s in seeds)
    assert rank_seed(0, 1) == rank_seed(0, 1) != rank_seed(0, 1, 40)
