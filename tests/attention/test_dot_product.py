"""Dot-product MHSA (ladabench.attention.dot_product) against torch's nn.MultiheadAttention
loaded with the same weights, and the SDPA path against the explicit path."""
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from ladabench.attention import build_attention
from ladabench.attention.dot_product import DotProductAttention
from ladabench.measure.flops import count_flops


def test_equals_torch_multihead_attention():
    torch.manual_seed(0)
    C, h, N = 32, 4, 64
    layer = build_attention("dot_product", C, h, N)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))
    mha = torch.nn.MultiheadAttention(C, h, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(layer.qkv.weight)
        mha.in_proj_bias.copy_(layer.qkv.bias)
        mha.out_proj.weight.copy_(layer.proj.weight)
        mha.out_proj.bias.copy_(layer.proj.bias)
    x = torch.randn(2, N, C)
    want_y, want_a = mha(x, x, x, average_attn_weights=False)  # A: (B, h, N, N)
    y, a = layer(x, return_attn=True)
    torch.testing.assert_close(y, want_y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a, want_a.mean(dim=2), rtol=1e-5, atol=1e-6)  # received
    torch.testing.assert_close(a.sum(-1), torch.ones(2, h))


def test_sdpa_path_equals_explicit_path():
    torch.manual_seed(0)
    explicit = build_attention("dot_product", 32, 4, 64)
    fused = build_attention("dot_product", 32, 4, 64, use_sdpa=True)
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(3, 64, 32)
    torch.testing.assert_close(fused(x), explicit(x), rtol=1e-5, atol=1e-5)
    # maps need the weights: the SDPA layer falls back to the explicit path for them
    torch.testing.assert_close(fused(x, return_attn=True)[1], explicit(x, return_attn=True)[1])


def test_sdpa_path_is_charged_by_the_counter():
    layer = build_attention("dot_product", 32, 4, 64, use_sdpa=True)
    x = torch.randn(2, 64, 32)
    report = count_flops(layer, x)
    assert report.macs == layer.macs(2) == 2 * (4 * 64 * 32 * 32 + 2 * 64 * 64 * 32)
    assert report.by_operator["scaled_dot_product_attention"] == 2 * 2 * 64 * 64 * 32
    assert "aten::scaled_dot_product_attention" not in report.unsupported
    # independent check (the CPU flash kernel has no FlopCounterMode formula,
    # docs/attention.md §9.3)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as math, torch.no_grad():
        layer(x)
    assert math.get_total_flops() == 2 * layer.macs(2)


def test_params_formula():
    for C, h in [(32, 4), (64, 2)]:
        layer = build_attention("dot_product", C, h, 64)
        assert sum(p.numel() for p in layer.parameters()) == 4 * C * C + 4 * C


def test_count_macs_ladagan_sizes():
    # docs/attention.md §7.3, §8.2 (B = 1, h = 4), millions of MACs
    sizes = [(64, 1024), (256, 256), (1024, 64)]
    got = [round(DotProductAttention.count_macs(1, n, c, 4) / 1e6, 3) for n, c in sizes]
    assert got == [276.824, 100.663, 150.995]
