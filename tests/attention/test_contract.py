"""The TokenAttention contract (ladabench.attention.base), checked for every registered variant,
and every variant's closed-form ``macs()`` against two independent counters (fvcore through
ladabench.measure.flops, and torch's FlopCounterMode = 2 × MACs)."""
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from ladabench.attention import build_attention, list_attentions
from ladabench.measure.flops import count_flops

# every variant with its defaults, plus the non-default options that change the graph
CASES = [(name, {}) for name in list_attentions()] + [
    ("fastformer", {"query_residual": False}),
    ("swin", {"shift": 2}),
    ("dot_product", {"use_sdpa": True}),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items()) or 'default'}" for n, o in CASES]
B, N, C, H = 3, 64, 32, 4


@pytest.fixture(params=CASES, ids=IDS)
def layer(request):
    torch.manual_seed(0)
    name, options = request.param
    return build_attention(name, C, H, N, **options)


def test_shapes_and_finite(layer):
    x = torch.randn(B, N, C)
    y, attn = layer(x, return_attn=True)
    assert y.shape == (B, N, C)
    assert attn.shape == (B, H, N)
    assert torch.isfinite(y).all() and torch.isfinite(attn).all()


def test_return_attn_false_gives_same_output(layer):
    x = torch.randn(B, N, C)
    torch.testing.assert_close(layer(x), layer(x, return_attn=True)[0], rtol=1e-5, atol=1e-6)


def test_rows_are_independent_of_batch_composition(layer):
    x = torch.randn(B, N, C)
    y, attn = layer(x, return_attn=True)
    for i in range(B):
        yi, ai = layer(x[i : i + 1], return_attn=True)
        torch.testing.assert_close(yi[0], y[i], rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(ai[0], attn[i], rtol=1e-5, atol=1e-6)


def test_gradients_flow(layer):
    x = torch.randn(B, N, C, requires_grad=True)
    layer(x).square().mean().backward()
    assert x.grad.abs().sum() > 0
    for name, p in layer.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    # a constant logit bias cancels in a softmax over tokens; every weight matrix must learn
    for name, p in layer.named_parameters():
        if p.dim() > 1:
            assert p.grad.abs().sum() > 0, name


def test_options_rebuild_the_same_layer(layer):
    again = build_attention(layer.name, C, H, N, **layer.options())
    assert again.options() == layer.options()
    assert {k: v.shape for k, v in again.state_dict().items()} == {
        k: v.shape for k, v in layer.state_dict().items()
    }
    assert f"seq_len={N}" in repr(layer)


SHAPES = [(2, 8, 64, 4), (1, 16, 32, 2), (3, 32, 16, 4)]  # (B, G, C, h)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"B{b}G{g}C{c}h{h}" for b, g, c, h in SHAPES])
def test_macs_equal_fvcore_and_flopcountermode(case, shape):
    name, options = case
    b, g, c, h = shape
    if options.get("shift"):  # shift must be window // 2: 2 at 8x8 (M=4), 4 at 16x16/32x32 (M=8)
        options = {**options, "shift": 2 if g == 8 else 4}
    layer = build_attention(name, c, h, g * g, **options)
    x = torch.randn(b, g * g, c)
    expected = layer.macs(b)
    report = count_flops(layer, x)
    assert report.macs == expected
    # FlopCounterMode has no CPU flash-SDPA formula (docs/attention.md §9.3): force the math kernel
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(x)
    assert counter.get_total_flops() == 2 * expected


@pytest.mark.parametrize("name", list_attentions())
def test_elementwise_macs_are_nonnegative_and_linear_in_batch(name):
    layer = build_attention(name, 32, 4, 64)
    assert 0 <= layer.elementwise_macs(1) and layer.elementwise_macs(2) == 2 * layer.elementwise_macs(1)
