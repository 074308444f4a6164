"""Fastformer (ladabench.attention.fastformer) against an independent re-implementation of the
official ``FastSelfAttention`` math (wuch15/Fastformer; docs/attention.md §5.1)."""
import pytest
import torch

from ladabench.attention import build_attention
from ladabench.attention.fastformer import FastformerAttention
from ladabench.core.errors import CapabilityError


def reference_fastformer(x, wq, bq, wk, bk, wqa, bqa, wka, bka, wt, bt, heads, query_residual):
    """Official FastSelfAttention without mask: x (B, N, C) -> (out, alpha (B, h, N))."""
    B, N, C = x.shape
    d = C // heads
    q = torch.einsum("bnc,oc->bno", x, wq) + bq
    k = torch.einsum("bnc,oc->bno", x, wk) + bk
    alpha = torch.softmax((torch.einsum("bnc,hc->bhn", q, wqa) + bqa[:, None]) / d**0.5, dim=-1)
    pooled_q = torch.einsum("bhn,bnhd->bhd", alpha, q.view(B, N, heads, d)).reshape(B, 1, C)
    p = k * pooled_q  # mixed_query_key_layer
    beta = torch.softmax((torch.einsum("bnc,hc->bhn", p, wka) + bka[:, None]) / d**0.5, dim=-1)
    pooled_k = torch.einsum("bhn,bnhd->bhd", beta, p.view(B, N, heads, d))  # pools P, not K
    weighted = (pooled_k[:, None] * q.view(B, N, heads, d)).reshape(B, N, C)
    out = torch.einsum("bnc,oc->bno", weighted, wt) + bt
    return (out + q if query_residual else out), alpha


@pytest.mark.parametrize("query_residual", [True, False])
def test_equals_official_math(query_residual):
    torch.manual_seed(0)
    C, h, N = 32, 4, 64
    layer = build_attention("fastformer", C, h, N, query_residual=query_residual)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.1 * torch.randn_like(p))
    wq, wk = layer.qk.weight.chunk(2)
    bq, bk = layer.qk.bias.chunk(2)
    x = torch.randn(2, N, C)
    want_y, want_a = reference_fastformer(
        x, wq, bq, wk, bk, layer.query_att.weight, layer.query_att.bias, layer.key_att.weight,
        layer.key_att.bias, layer.transform.weight, layer.transform.bias, h, query_residual,
    )
    y, a = layer(x, return_attn=True)
    torch.testing.assert_close(y, want_y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a, want_a, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a.sum(-1), torch.ones(2, h))


def test_query_residual_is_the_only_difference():
    torch.manual_seed(0)
    with_q = build_attention("fastformer", 16, 2, 16)
    without = build_attention("fastformer", 16, 2, 16, query_residual=False)
    without.load_state_dict(with_q.state_dict())
    x = torch.randn(2, 16, 16)
    q = with_q.qk(x).chunk(2, dim=-1)[0]
    torch.testing.assert_close(with_q(x), without(x) + q)


def test_rejects_non_bool_query_residual():
    with pytest.raises(CapabilityError, match=r"option query_residual: Input should be a valid boolean \(got 'yes'\)"):
        build_attention("fastformer", 16, 2, 16, query_residual="yes")


def test_params_formula():
    for C, h in [(32, 4), (64, 2)]:
        layer = build_attention("fastformer", C, h, 64)
        n_params = sum(p.numel() for p in layer.parameters())
        assert n_params == 3 * C * C + 3 * C + 2 * (C * h + h)


def test_count_macs_ladagan_sizes():
    # docs/attention.md §5.3, §8.2, official Fastformer (B = 1, h = 4), millions of MACs
    sizes = [(64, 1024), (256, 256), (1024, 64)]
    got = [round(FastformerAttention.count_macs(1, n, c, 4) / 1e6, 3) for n, c in sizes]
    assert got == [201.982, 50.987, 13.238]
