"""Linformer (ladabench.attention.linformer) against an independent re-implementation of the
lucidrains ``LinformerSelfAttention`` math (project then compress; docs/attention.md §4.1)."""
import pytest
import torch

from ladabench.attention import build_attention
from ladabench.attention.linformer import LinformerAttention


def reference_linformer(x, wq, wk, wv, e, f, wo, bo, heads):
    """x (B, N, C), e/f (N, k) -> (out (B, N, C), P (B, h, N, k))."""
    B, N, C = x.shape
    d = C // heads
    q, k, v = (torch.einsum("bnc,oc->bno", x, w) for w in (wq, wk, wv))
    k, v = torch.einsum("bnd,nk->bkd", k, e), torch.einsum("bnd,nk->bkd", v, f)
    qh, kh, vh = (t.reshape(B, -1, heads, d) for t in (q, k, v))
    p = torch.softmax(torch.einsum("bnhd,bkhd->bhnk", qh, kh) * d**-0.5, dim=-1)
    out = torch.einsum("bhnk,bkhd->bnhd", p, vh).reshape(B, N, C)
    return torch.einsum("bnc,oc->bno", out, wo) + bo, p


def test_equals_reference_math_and_effective_map():
    torch.manual_seed(0)
    C, h, N = 32, 4, 64
    layer = build_attention("linformer", C, h, N, k=8)
    wq, wk, wv = layer.qkv.weight.chunk(3)
    x = torch.randn(2, N, C)
    want_y, p = reference_linformer(
        x, wq, wk, wv, layer.proj_k, layer.proj_v, layer.proj.weight, layer.proj.bias, h
    )
    y, attn = layer(x, return_attn=True)
    torch.testing.assert_close(y, want_y, rtol=1e-5, atol=1e-5)
    # effective token-to-token weights W_eff = P Fᵀ (B, h, N, N), averaged over queries
    w_eff = torch.einsum("bhnk,mk->bhnm", p, layer.proj_v)
    torch.testing.assert_close(attn, w_eff.mean(dim=2), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("grid, k", [(8, 16), (16, 64), (32, 256)])
def test_default_k_is_a_quarter_of_the_tokens(grid, k):
    layer = build_attention("linformer", 8, 2, grid * grid)
    assert layer.options() == {"k": k}
    assert layer.proj_k.shape == layer.proj_v.shape == (grid * grid, k)


def test_init_and_no_qkv_bias():
    torch.manual_seed(0)
    layer = build_attention("linformer", 16, 2, 64)
    assert layer.qkv.bias is None
    bound = 1 / 16**0.5  # uniform(±1/sqrt(k)), k = 16
    for proj in (layer.proj_k, layer.proj_v):
        assert proj.abs().max() <= bound and proj.abs().max() > 0.9 * bound
    assert not torch.equal(layer.proj_k, layer.proj_v)  # no key/value tying


def test_params_formula():
    for C, h, N, k in [(32, 4, 64, 16), (16, 2, 256, 32)]:
        layer = build_attention("linformer", C, h, N, k=k)
        assert sum(p.numel() for p in layer.parameters()) == 4 * C * C + C + 2 * N * k


def test_count_macs_ladagan_sizes():
    # docs/attention.md §4.3, §8.2 (B = 1, h = 4), millions of MACs; k = N/4, then a fixed k = 64
    sizes = [(64, 1024), (256, 256), (1024, 64)]
    quarter = [round(LinformerAttention.count_macs(1, n, c, 4) / 1e6, 3) for n, c in sizes]
    assert quarter == [272.630, 83.886, 83.886]
    fixed = [round(LinformerAttention.count_macs(1, n, c, 4, k=64) / 1e6, 3) for n, c in sizes]
    assert fixed == [285.213, 83.886, 33.554]
