"""ladabench.models.discriminator: docs/paper.md §6.2 counts, 25 logits, Keras 'same' padding."""
import pytest
import torch
import torch.nn.functional as F

from ladabench.measure.flops import count_params
from ladabench.models import build_discriminator
from ladabench.config.model import ModelConfig
from ladabench.models.discriminator import SameConv2d


# docs/paper.md §6.2, §12.3; 256: stem 432 + downBlocks 14,528 + 57,728 + 230,144 + 919,040
# + pos 65,536 + Ladaformer 528,132 + head 4,719,104 + 524,288 + 16,384 (hand sum: 7,075,316)
D_PARAMS = {
    "cifar10_32": (6_775_940, 1_536),
    "celeba_64": (7_004_356, 2_304),
    "ffhq_128": (7_061_220, 2_688),
    "bedroom_128": (7_061_220, 2_688),
    "bedroom_256": (7_075_316, 2_880),
}


@pytest.mark.parametrize("preset", sorted(D_PARAMS))
def test_discriminator_param_counts(preset, meta_build, count_bn_stats):
    d = meta_build("D", preset=preset)
    assert (count_params(d), count_bn_stats(d)) == D_PARAMS[preset]


@pytest.mark.parametrize("preset,res", [("cifar10_32", 32), ("celeba_64", 64)])
def test_discriminator_outputs_25_logits(preset, res, fast_model):
    d = fast_model("D", preset=preset)
    with torch.no_grad():
        assert d(torch.randn(2, 3, res, res)).shape == (2, 25)


def test_stride2_same_padding_is_asymmetric():
    conv = SameConv2d(3, 5, 3, stride=2, bias=False)
    x = torch.randn(2, 3, 16, 16)
    expected = F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, stride=2)  # Keras: 0 top/left
    out = conv(x)
    assert out.shape == (2, 5, 8, 8)
    torch.testing.assert_close(out, expected)
    symmetric = F.conv2d(x, conv.weight, stride=2, padding=1)  # the PyTorch port's padding
    assert not torch.allclose(out, symmetric)


def test_stride1_same_padding_is_symmetric():
    conv = SameConv2d(3, 4, 3)
    x = torch.randn(1, 3, 8, 8)
    torch.testing.assert_close(conv(x), F.conv2d(x, conv.weight, conv.bias, padding=1))


def test_discriminator_layout_and_init():
    d = build_discriminator(ModelConfig(preset="celeba_64"))  # real orthogonal init
    down = d.down[0]
    assert down.main[0].stride == (2, 2) and down.main[0].bias is None
    bn = down.main[1]
    assert (bn.momentum, bn.eps) == (0.01, 1e-3)
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    assert d.block.norm1.eps == 1e-6
    assert (d.head[0].in_channels, d.head[0].out_channels, d.head[0].bias is not None) == (
        1024, 512, True)
    assert d.head[1].bias is None and d.head[3].kernel_size == (4, 4) and d.head[3].bias is None
    w = d.pos.weight.detach().double()  # (256, 256): orthogonal
    torch.testing.assert_close(w @ w.T, torch.eye(256, dtype=torch.float64), atol=1e-5, rtol=0)


def test_down_block_averages_main_and_direct_paths(fast_model):
    d = fast_model("D", preset="cifar10_32")
    down, x = d.down[0], torch.randn(1, 128, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(down(x), (down.main(x) + down.direct(x)) / 2)


def test_conv_only_discriminator(fast_model):
    full = fast_model("D", preset="cifar10_32")
    conv = fast_model("D", preset="cifar10_32", d_transformer=False)
    # pos emb 256·256 + Ladaformer 528,132 (attention 264,196 + 2 LN 1,024 + MLP 262,912)
    assert count_params(full) - count_params(conv) == 65_536 + 528_132
    assert list(conv.block_groups()) == ["stem", "down1", "head"]
    with torch.no_grad():
        assert conv(torch.randn(1, 3, 32, 32)).shape == (1, 25)


def test_block_groups_partition_all_parameters(meta_build):
    d = meta_build("D", preset="ffhq_128")
    groups = d.block_groups()
    assert list(groups) == ["stem", "down1", "down2", "down3", "pos", "block", "head"]
    ids = [id(p) for m in groups.values() for p in m.parameters()]
    assert len(ids) == len(set(ids)) == len(list(d.parameters()))
