"""DiffAugment: shapes, ranges and the exact semantics of each policy (mit-han-lab DiffAugment)."""
from __future__ import annotations

import pytest
import torch

from ladabench.train import diffaug
from ladabench.train.diffaug import cutout_mask, diff_augment, translate


def _images(b=6, s=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, 3, s, s, generator=g) * 2 - 1


@pytest.mark.parametrize("policies", [[], ["color"], ["translation"], ["cutout"],
                                      ["color", "translation"], ["color", "translation", "cutout"]])
def test_policies_keep_shape_dtype_and_gradient(policies):
    x = _images().requires_grad_(True)
    y = diff_augment(x, policies)
    assert y.shape == x.shape and y.dtype == x.dtype
    y.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_empty_policy_is_identity():
    x = _images()
    assert diff_augment(x, []) is x


@pytest.mark.parametrize("policies", [["translation"], ["cutout"], ["translation", "cutout"]])
def test_geometric_policies_only_move_or_zero_pixels(policies):
    """Translation (zero fill) and cutout output only input values or 0: range kept."""
    x = _images(b=16, s=32)
    y = diff_augment(x, policies)
    for b in range(len(x)):
        vals = set(x[b].flatten().tolist()) | {0.0}
        assert set(y[b].flatten().tolist()) <= vals
    assert y.min() >= x.min() and y.max() <= x.max()


def test_translate_equals_slicing_with_zero_fill():
    x = _images(b=4, s=8)
    shifts = torch.tensor([[0, 0], [1, -2], [-3, 3], [8, 0]])
    y = translate(x, shifts)
    for b, (sy, sx) in enumerate(shifts.tolist()):
        ref = torch.zeros_like(x[b])
        for i in range(8):
            for j in range(8):
                if 0 <= i + sy < 8 and 0 <= j + sx < 8:
                    ref[:, i, j] = x[b, :, i + sy, j + sx]
        assert torch.equal(y[b], ref), (sy, sx)


def test_translation_range_is_an_eighth_of_the_side(monkeypatch):
    """At 32×32 shifts are drawn from [-4, 4] (int(32 · 0.125 + 0.5)) on both axes."""
    seen = []
    real = torch.randint

    def spy(low, high, size, **kw):
        seen.append((low, high))
        return real(low, high, size, **kw)

    monkeypatch.setattr(diffaug.torch, "randint", spy)
    diff_augment(_images(b=2, s=32), ["translation"])
    assert seen == [(-4, 5), (-4, 5)]


def test_cutout_zeroes_a_clipped_half_size_square():
    mask = cutout_mask((3, 3, 32, 32), torch.tensor([[16, 16], [0, 0], [31, 5]]), (16, 16))
    assert mask.shape == (3, 1, 32, 32)
    zeros = (~mask[:, 0]).sum(dim=(1, 2)).tolist()
    # centre; corner (0,0): rows/cols -8..7 -> 8×8; (31,5): rows 23..31 × cols 0..12
    assert zeros == [256, 8 * 8, 9 * 13]
    assert not mask[0, 0, 8:24, 8:24].any() and mask[0, 0, 7, :].all()


def test_cutout_applies_its_mask():
    torch.manual_seed(3)
    x = _images(b=8, s=32).abs() + 0.1  # no zero pixels in the input
    y = diff_augment(x, ["cutout"])
    zeros = (y == 0).all(dim=1).sum(dim=(1, 2))
    assert ((zeros >= 64) & (zeros <= 256)).all()  # a 16×16 square, at most 3/4 clipped


def test_color_matches_the_formula_with_the_same_draws():
    x = _images(b=5)
    torch.manual_seed(11)
    y = diff_augment(x, ["color"])
    torch.manual_seed(11)
    u1, u2, u3 = (torch.rand(5, 1, 1, 1) for _ in range(3))
    ref = x + (u1 - 0.5)
    m = ref.mean(dim=1, keepdim=True)
    ref = (ref - m) * (2 * u2) + m
    m = ref.mean(dim=(1, 2, 3), keepdim=True)
    ref = (ref - m) * (u3 + 0.5) + m
    torch.testing.assert_close(y, ref)
    # brightness shifts by less than 0.5; contrast keeps the image mean of the saturated image
    assert (y.mean(dim=(1, 2, 3)) - x.mean(dim=(1, 2, 3))).abs().max() <= 0.5 + 1e-6
