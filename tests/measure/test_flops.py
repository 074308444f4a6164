"""ladabench.measure.flops: fvcore MACs in the matrix-products convention, checked against
analytic counts and torch's FlopCounterMode (independent of fvcore; FLOP2 = 2 × MAC)."""
import pytest
import torch
import torch.nn.functional as F
from fvcore.nn import FlopCountAnalysis
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from ladabench.measure.flops import CONVENTION, count_flops, count_params, flop_analysis


class Fn(nn.Module):
    """Wrap a function of the input as a module."""

    def __init__(self, fn, *params):
        super().__init__()
        self.fn = fn
        self.params = nn.ParameterList(params)

    def forward(self, x):
        return self.fn(x, *self.params)


def flop_counter_macs(model, x):
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    return counter.get_total_flops() // 2


def test_norms_are_not_charged_but_reported():
    model = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.Softmax(-1))
    x = torch.randn(2, 5, 8)
    report = count_flops(model, x)
    assert report.macs == 2 * 5 * 8 * 16
    assert report.unsupported == {"aten::layer_norm": 1, "aten::softmax": 1}
    # fvcore's default would have charged the LayerNorm (5 per element, docs/attention.md §9.1)
    assert FlopCountAnalysis(model, (x,)).total() > report.macs


def test_unknown_op_appears_in_unsupported():
    model = Fn(lambda x: torch.cumsum(x, 1) * 2 + x.exp())
    report = count_flops(model, torch.randn(2, 3))
    assert report.macs == 0
    assert report.unsupported == {"aten::add": 1, "aten::cumsum": 1, "aten::exp": 1, "aten::mul": 1}


def test_broadcast_matmul_keeps_the_batch():
    # E (k, N) @ X (B, N, C): stock fvcore reports k·N·C (batch dropped, docs/attention.md §9.3)
    e = nn.Parameter(torch.randn(16, 64))
    model = Fn(lambda x, e: torch.matmul(e, x), e)
    x = torch.randn(2, 64, 32)
    assert count_flops(model, x).macs == 2 * 16 * 64 * 32 == flop_counter_macs(model, x)
    assert FlopCountAnalysis(model, (x,)).total() == 16 * 64 * 32


def test_matmul_with_vectors():
    w = nn.Parameter(torch.randn(8))
    model = Fn(lambda x, w: torch.matmul(x, w) + torch.matmul(w, x.transpose(-1, -2)).sum(), w)
    x = torch.randn(3, 5, 8)
    assert count_flops(model, x).macs == 2 * 3 * 5 * 8


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("bhn,bhnd->bhd", [(1, 4, 64), (1, 4, 64, 32)]),  # Lada pooling: stock fvcore 8,190.0
        ("bnd,nk->bkd", [(2, 64, 64), (64, 16)]),
        ("bnd,nk->bkd", [(3, 1024, 16), (1024, 256)]),
        ("bij,bjk,bkl->bil", [(2, 3, 5), (2, 5, 7), (2, 7, 11)]),
    ],
)
def test_einsum_is_exact(equation, shapes):
    params = [nn.Parameter(torch.randn(s)) for s in shapes[1:]]
    model = Fn(lambda x, *ps: torch.einsum(equation, x, *ps), *params)
    x = torch.randn(shapes[0])
    macs = count_flops(model, x).macs
    assert isinstance(macs, int)
    if len(shapes) == 2:  # one pairwise contraction: the product of all index sizes
        sizes = dict(zip(equation.replace(",", "").split("->")[0], sum(shapes, ())))
        assert macs == torch.tensor(list(sizes.values())).prod().item()
        assert macs == flop_counter_macs(model, x)
    else:  # optimal path for (2,3,5)(2,5,7)(2,7,11): (AB)C = 2·3·5·7 + 2·3·7·11, not A(BC) = 1,100
        assert macs == 2 * 3 * 5 * 7 + 2 * 3 * 7 * 11


def test_sdpa_is_charged():
    # L != S and E != Ev to pin the formula prod(batch) · L · S · (E + Ev)
    k = nn.Parameter(torch.randn(2, 3, 10, 8))
    v = nn.Parameter(torch.randn(2, 3, 10, 4))
    model = Fn(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), k, v)
    q = torch.randn(2, 3, 7, 8)
    report = count_flops(model, q)
    assert report.macs == 2 * 3 * 7 * 10 * (8 + 4) == flop_counter_macs(model, q)
    assert report.unsupported == {}


def test_conv_and_by_module():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    x = torch.randn(1, 3, 4, 4)
    report = count_flops(model, x)
    conv, linear = 3 * 8 * 9 * 16, 8 * 16 * 10
    assert report.by_module[""] == report.macs == conv + linear == flop_counter_macs(model, x)
    assert report.by_module["0"] == conv and report.by_module["2"] == linear
    assert report.by_module["1"] == 0
    assert report.by_operator == {"conv": conv, "linear": linear}


def test_params_trainable_shared_and_buffers():
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, shared, nn.BatchNorm1d(4), nn.Linear(4, 2))
    model[3].weight.requires_grad_(False)
    assert count_params(model) == 20 + 8 + 2
    assert count_params(model, trainable_only=False) == 20 + 8 + 10
    assert count_flops(model, torch.randn(3, 4)).params == 30


def test_count_flops_leaves_the_model_untouched():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    before = model[1].running_mean.clone()
    report = count_flops(model, (torch.randn(8, 4) + 5,))
    assert model.training
    torch.testing.assert_close(model[1].running_mean, before)
    assert report.unsupported == {"aten::batch_norm": 1}
    assert report.to_dict()["convention"] == CONVENTION
    assert "fvcore 0.1.5" in CONVENTION


def test_flop_analysis_is_a_configured_fvcore_analysis():
    analysis = flop_analysis(nn.Linear(3, 5), torch.randn(2, 3))
    assert isinstance(analysis, FlopCountAnalysis)
    assert analysis.total() == 30
