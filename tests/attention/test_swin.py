"""Swin window attention (ladabench.attention.swin) against an independent dense formulation:
full (N, N) logits in the original token order where pairs in different (shifted) windows are
excluded, cross-region pairs get -100 and same-window pairs get the relative-position bias."""
import pytest
import torch

from ladabench.attention import build_attention, get_attention
from ladabench.attention.swin import SwinAttention, shift_mask


def dense_swin(x, layer):
    """x (B, N, C) -> (out (B, N, C), attention received (B, h, N)), built token by token."""
    B, N, C = x.shape
    G, M, s, h = layer.grid, layer.window, layer.shift, layer.heads
    d = C // h
    t = torch.arange(N)
    r, c = (t // G - s) % G, (t % G - s) % G  # coordinates after the cyclic shift by -s

    def region(u):  # slices [0, G-M), [G-M, G-s), [G-s, G) of the shifted grid
        return (u >= G - M).long() + (u >= G - s).long() if s else torch.zeros_like(u)

    same_window = ((r // M)[:, None] == (r // M)[None]) & ((c // M)[:, None] == (c // M)[None])
    same_region = (region(r) * 3 + region(c))[:, None] == (region(r) * 3 + region(c))[None]
    dy = (r % M)[:, None] - (r % M)[None]
    dx = (c % M)[:, None] - (c % M)[None]
    bias = layer.relative_position_bias_table[(dy + M - 1) * (2 * M - 1) + (dx + M - 1)]  # (N,N,h)
    qkv = x @ layer.qkv.weight.T + layer.qkv.bias
    q, k, v = (u.view(B, N, h, d) for u in qkv.chunk(3, dim=-1))
    logits = torch.einsum("bnhd,bmhd->bhnm", q, k) * d**-0.5 + bias.permute(2, 0, 1)
    logits = logits + torch.where(same_region, 0.0, -100.0)
    logits = logits.masked_fill(~same_window, float("-inf"))
    attn = logits.softmax(dim=-1)  # (B, h, N, N), block-diagonal in shifted window order
    out = torch.einsum("bhnm,bmhd->bnhd", attn, v).reshape(B, N, C)
    return out @ layer.proj.weight.T + layer.proj.bias, attn.mean(dim=2)


@pytest.mark.parametrize("grid, window, shift", [(8, 4, 0), (8, 4, 2), (8, 2, 1), (16, 8, 4)])
def test_equals_dense_formulation(grid, window, shift):
    torch.manual_seed(0)
    layer = build_attention("swin", 16, 2, grid * grid, window=window, shift=shift)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x = torch.randn(2, grid * grid, 16)
    want_y, want_a = dense_swin(x, layer)
    y, a = layer(x, return_attn=True)
    torch.testing.assert_close(y, want_y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a, want_a, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, 2))


def test_shift_mask_8x8_window_4_shift_2():
    mask = shift_mask(8, 4, 2)
    assert mask.shape == (4, 16, 16)
    assert set(mask.unique().tolist()) == {0.0, -100.0}
    masked = [bool((w == -100).any()) for w in mask]
    assert masked == [False, True, True, True]  # 3 of the 4 windows carry a mask
    # last window: 4 regions of 2x2 tokens, each token sees the 4 of its own region
    assert ((mask[3] == 0).sum(-1) == 4).all()
    assert ((mask[1] == 0).sum(-1) == 8).all()


@pytest.mark.parametrize("grid, window", [(8, 4), (16, 8), (32, 8)])
def test_default_window_table(grid, window):
    layer = build_attention("swin", 8, 2, grid * grid)
    assert layer.options() == {"window": window, "shift": 0}
    assert layer.attn_mask is None


def test_window_covering_the_grid_is_global_without_shift():
    layer = build_attention("swin", 8, 2, 64, window=8, shift=4)
    assert layer.options() == {"window": 8, "shift": 0}
    layer = build_attention("swin", 8, 2, 64, window=16)
    assert layer.options() == {"window": 8, "shift": 0}
    global_macs = SwinAttention.count_macs(1, 64, 8, 2, window=8)
    assert SwinAttention.count_macs(1, 64, 8, 2, window=16) == global_macs


def test_relative_position_table_init_and_params():
    torch.manual_seed(0)
    layer = build_attention("swin", 32, 4, 256, window=8)
    table = layer.relative_position_bias_table
    assert table.shape == (15 * 15, 4)
    assert abs(table.std().item() - 0.02) < 0.004
    assert torch.count_nonzero(layer.qkv.bias) == 0
    for C, h, M in [(32, 4, 4), (16, 2, 8)]:
        layer = build_attention("swin", C, h, 256, window=M)
        n_params = sum(p.numel() for p in layer.parameters())
        assert n_params == 4 * C * C + 4 * C + (2 * M - 1) ** 2 * h


def test_count_macs_ladagan_sizes():
    # docs/attention.md §6.3, §8.2 (B = 1, h = 4), millions of MACs; M = 4, then M = 8
    sizes = [(64, 1024), (256, 256), (1024, 64)]
    m4 = [round(SwinAttention.count_macs(1, n, c, 4, window=4) / 1e6, 3) for n, c in sizes]
    assert m4 == [270.533, 69.206, 18.874]
    m8 = [round(SwinAttention.count_macs(1, n, c, 4, window=8) / 1e6, 3) for n, c in sizes]
    assert m8 == [276.824, 75.497, 25.166]


def test_half_shift_resolves_to_half_the_effective_window():
    assert build_attention("swin", 16, 2, 256, shift="half").options() == {"window": 8, "shift": 4}
    # one window covering the grid: shift forced to 0 whatever was asked
    assert build_attention("swin", 16, 2, 64, window=8, shift="half").options()["shift"] == 0


def test_block_defaults_alternate_w_and_sw():
    cls = get_attention("swin")
    assert [cls.block_defaults(i) for i in range(3)] == [{}, {"shift": "half"}, {}]
