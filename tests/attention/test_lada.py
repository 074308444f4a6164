"""Lada (ladabench.attention.lada) against an independent re-implementation of the reference math
(docs/attention.md §3.1) written with einsum from separate Wq/Wk/Wv/Wa/Wo weights."""
import torch

from ladabench.attention import build_attention
from ladabench.attention.lada import LadaAttention


def reference_lada(x, wq, bq, wk, bk, wv, bv, wa, ba, wo, bo, heads):
    """TF ``AdditiveAttention``: x (B, N, C) -> (out (B, N, C), attn (B, h, N))."""
    B, N, C = x.shape
    d = C // heads
    q = torch.einsum("bnc,oc->bno", x, wq) + bq
    k = torch.einsum("bnc,oc->bno", x, wk) + bk
    v = torch.einsum("bnc,oc->bno", x, wv) + bv
    scores = (torch.einsum("bnc,hc->bnh", q, wa) + ba) / d**0.5  # full C-dim query
    attn = torch.softmax(scores.permute(0, 2, 1), dim=2)  # over TOKENS, (B, h, N)
    qh, kh, vh = (t.view(B, N, heads, d) for t in (q, k, v))
    g = torch.einsum("bhn,bnhd->bhd", attn, qh)
    r = torch.einsum("bhd,bnhd->bnhd", g, kh) * vh
    out = torch.einsum("bnc,oc->bno", r.reshape(B, N, C), wo) + bo
    return out, attn


def test_equals_reference_math():
    torch.manual_seed(0)
    C, h, N = 32, 4, 64
    layer = build_attention("lada", C, h, N)
    with torch.no_grad():  # non-zero biases so that every term is exercised
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))
    wq, wk, wv = layer.qkv.weight.chunk(3)
    bq, bk, bv = layer.qkv.bias.chunk(3)
    x = torch.randn(2, N, C)
    want_y, want_a = reference_lada(
        x, wq, bq, wk, bk, wv, bv, layer.q_attn.weight, layer.q_attn.bias,
        layer.proj.weight, layer.proj.bias, h,
    )
    y, a = layer(x, return_attn=True)
    torch.testing.assert_close(y, want_y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a, want_a, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, h))


def test_fused_qkv_init_is_three_orthogonal_blocks():
    torch.manual_seed(0)
    C = 16
    layer = build_attention("lada", C, 4, 16)
    eye = torch.eye(C)
    for w in layer.qkv.weight.detach().chunk(3):
        torch.testing.assert_close(w @ w.T, eye, rtol=0, atol=1e-5)
    # the three blocks are independent draws, not one 3C x C orthogonal matrix scaled
    q, k, _ = layer.qkv.weight.detach().chunk(3)
    assert (q @ k.T).abs().max() > 0.1
    for lin in (layer.q_attn, layer.proj):
        assert torch.count_nonzero(lin.bias) == 0
    assert torch.count_nonzero(layer.qkv.bias) == 0


def test_params_formula():
    for C, h in [(32, 4), (64, 2)]:
        layer = build_attention("lada", C, h, 64)
        assert sum(p.numel() for p in layer.parameters()) == 4 * C * C + C * h + 4 * C + h


def test_count_macs_ladagan_sizes():
    # docs/attention.md §3.3, §8.2 (B = 1, h = 4), millions of MACs
    sizes = [(64, 1024), (256, 256), (1024, 64)]
    got = [round(LadaAttention.count_macs(1, n, c, 4) / 1e6, 3) for n, c in sizes]
    assert got == [268.763, 67.437, 17.105]


def test_elementwise_products_are_the_published_2nc_term():
    layer = build_attention("lada", 64, 4, 256)
    assert layer.elementwise_macs(3) == 2 * 3 * 256 * 64
