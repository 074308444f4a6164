"""ladabench.models.blocks: TF semantics of SLN, the G/D blocks and the TF pixel shuffles."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from ladabench.models.blocks import (
    BN_EPS,
    BN_MOMENTUM,
    DiscriminatorBlock,
    GeneratorBlock,
    SelfModulatedLayerNorm,
    batch_norm,
    depth_to_space,
    space_to_depth,
)


def test_sln_uses_gamma_not_one_plus_gamma():
    torch.manual_seed(0)
    sln = SelfModulatedLayerNorm(dim=4, noise_dim=3)
    with torch.no_grad():
        for lin in (sln.hidden, sln.gamma, sln.beta):
            lin.weight.zero_()
        sln.hidden.bias.fill_(1.0)  # hz = ReLU(1) = 1 per channel
        sln.gamma.weight.fill_(0.5)  # gamma = 0.5 * 4 + 0 = 2
        sln.gamma.bias.zero_()
        sln.beta.bias.fill_(3.0)  # beta = 3
    x = torch.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    z = torch.randn(1, 3)
    mean, var = 2.5, 1.25  # biased variance of 1..4
    x_hat = (x - mean) / (var + 1e-6) ** 0.5
    out = sln(x, z)
    torch.testing.assert_close(out, x_hat * 2.0 + 3.0)
    assert not torch.allclose(out, x_hat * 3.0 + 3.0)  # the 1 + gamma variant


def test_sln_parts_match_reference_layout():
    sln = SelfModulatedLayerNorm(dim=8, noise_dim=128)
    assert sln.norm.eps == 1e-6 and not sln.norm.elementwise_affine
    # each SLN has its own hidden layer: 128C + C + 2(C² + C)
    assert sum(p.numel() for p in sln.parameters()) == 128 * 8 + 8 + 2 * (64 + 8)


def _ln(x):
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


def test_generator_block_has_no_mlp_residual_by_default():
    torch.manual_seed(0)
    blk = GeneratorBlock(16, 4, 32, seq_len=9, noise_dim=5, attention="lada").eval()
    x, z = torch.randn(2, 9, 16), torch.randn(2, 5)
    x1 = x + blk.attn(blk.norm1(x, z))
    expected = blk.mlp(blk.norm2(x1, z))
    torch.testing.assert_close(blk(x, z), expected)
    res = GeneratorBlock(16, 4, 32, seq_len=9, noise_dim=5, attention="lada",
                         mlp_residual=True).eval()
    res.load_state_dict(blk.state_dict())
    torch.testing.assert_close(res(x, z), x1 + expected)


def test_generator_block_returns_attention_map():
    blk = GeneratorBlock(16, 4, 32, seq_len=9, noise_dim=5, attention="lada")
    out, attn = blk(torch.randn(2, 9, 16), torch.randn(2, 5), return_attn=True)
    assert out.shape == (2, 9, 16) and attn.shape == (2, 4, 9)
    torch.testing.assert_close(attn.sum(-1), torch.ones(2, 4))


def test_discriminator_block_pre_ln_with_two_residuals():
    torch.manual_seed(0)
    blk = DiscriminatorBlock(16, 4, 32, seq_len=9, attention="lada").eval()
    assert blk.norm1.eps == 1e-6 and blk.norm1.elementwise_affine
    with torch.no_grad():
        blk.norm1.weight.uniform_(0.5, 1.5)
        blk.norm2.bias.uniform_(-1, 1)
    x = torch.randn(2, 9, 16)
    x1 = x + blk.attn(F.layer_norm(x, (16,), blk.norm1.weight, blk.norm1.bias, 1e-6))
    out = x1 + blk.mlp(F.layer_norm(x1, (16,), blk.norm2.weight, blk.norm2.bias, 1e-6))
    torch.testing.assert_close(blk(x), out)


def test_mlp_gelu_is_exact():
    blk = DiscriminatorBlock(8, 2, 16, seq_len=4, attention="lada")
    assert blk.mlp[1].approximate == "none"


def test_batch_norm_uses_keras_defaults():
    bn = batch_norm(4)
    assert (bn.momentum, bn.eps) == (BN_MOMENTUM, BN_EPS) == (0.01, 1e-3)


def test_depth_to_space_matches_tf_definition():
    # tf.nn.depth_to_space (NHWC): out[b·h+i, b·w+j, c] = in[h, w, (i·b + j)·C' + c]
    b, H, W, C = 2, 3, 2, 8
    x = torch.randn(1, H, W, C)
    out = depth_to_space(x, b)
    c_out = C // (b * b)
    assert out.shape == (1, b * H, b * W, c_out)
    for h, w, i, j, c in itertools.product(range(H), range(W), range(b), range(b), range(c_out)):
        assert out[0, b * h + i, b * w + j, c] == x[0, h, w, (i * b + j) * c_out + c]


def test_depth_to_space_differs_from_pixel_shuffle_by_a_channel_permutation():
    x = torch.randn(1, 4, 4, 8)
    ours = depth_to_space(x, 2).permute(0, 3, 1, 2)
    perm = [(k % 4) * 2 + k // 4 for k in range(8)]  # torch order c·4 + s -> TF order s·2 + c
    theirs = F.pixel_shuffle(x.permute(0, 3, 1, 2)[:, perm], 2)
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("block", [2, 4])
def test_space_to_depth_inverts_depth_to_space(block):
    x = torch.randn(2, 8, 8, 3)
    y = space_to_depth(x, block)
    assert y.shape == (2, 8 // block, 8 // block, 3 * block * block)
    torch.testing.assert_close(depth_to_space(y, block), x)
