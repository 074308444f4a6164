"""ladabench.models.generator: parameter counts (docs/paper.md §5.2), shapes, maps, init, knobs."""
import pytest
import torch

from ladabench.measure.flops import count_params
from ladabench.models import build_generator
from ladabench.config.model import ModelConfig


# docs/paper.md §5.2, §12.3 (Keras model.summary() totals for the released configs)
G_PARAMS = {
    "cifar10_32": (19_901_647, 0),
    "celeba_64": (19_900_351, 0),
    "ffhq_128": (24_025_871, 384),
    "bedroom_128": (19_923_535, 96),  # TF config.py comment for 128
    "bedroom_128_patch": (19_900_027, 0),  # 4x4 patches
    "bedroom_256": (19_924_495, 112),  # TF config.py comment for 256
}


@pytest.fixture(scope="module")
def cifar_g():
    torch.manual_seed(0)
    return build_generator(ModelConfig(preset="cifar10_32")).eval()  # real orthogonal init


@pytest.mark.parametrize("preset", sorted(G_PARAMS))
def test_generator_param_counts_match_reference(preset, meta_build, count_bn_stats):
    g = meta_build("G", preset=preset)
    assert (count_params(g), count_bn_stats(g)) == G_PARAMS[preset]
    assert g.noise_dim == 128 and g.resolution == int(preset.split("_")[1])


@pytest.mark.parametrize("preset,res", [("cifar10_32", 32), ("celeba_64", 64)])
def test_generator_output_and_attention_maps(preset, res, fast_model):
    g = fast_model("G", preset=preset)
    with torch.no_grad():
        img, maps = g(torch.randn(2, 128), return_attn=True)
    assert img.shape == (2, 3, res, res)
    assert [m.shape for m in maps] == [(2, 4, 64), (2, 4, 256), (2, 4, 1024)]
    with torch.no_grad():
        z = torch.randn(3, 128)
        # in eval mode a sample depends on its own z only: not on the batch it is generated in
        # (BatchNorm on running statistics, attention within a sample), and z matters
        torch.testing.assert_close(g(z[:1]), g(z)[:1], rtol=1e-4, atol=1e-5)
        assert (g(z[1:2]) - g(z[2:3])).abs().max() > 1e-3


def test_positional_embeddings_are_orthogonal(cifar_g):
    # Keras Embedding with the orthogonal initializer: (N, C) has orthonormal rows or columns
    for stage in cifar_g.stages:
        w = stage.pos.weight.detach().double()
        gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
        torch.testing.assert_close(gram, torch.eye(gram.shape[0], dtype=torch.float64),
                                   atol=1e-5, rtol=0)


def test_kernels_orthogonal_biases_zero(cifar_g):
    conv = cifar_g.stages[1].conv
    w = conv.weight.detach().flatten(1).double()  # (out, in·k·k) = (256, 576): rows orthonormal
    torch.testing.assert_close(w @ w.T, torch.eye(256, dtype=torch.float64), atol=1e-5, rtol=0)
    assert torch.count_nonzero(conv.bias) == 0
    sln = cifar_g.stages[0].block.norm1
    assert torch.count_nonzero(sln.gamma.bias) == 0 and cifar_g.dense_in.bias is None


def test_attention_layers_keep_their_orthogonal_init(cifar_g):
    attn = cifar_g.stages[2].block.attn  # Lada at C=64: q, k, v blocks and proj orthogonal
    for w in (*attn.qkv.weight.detach().double().chunk(3), attn.proj.weight.detach().double()):
        torch.testing.assert_close(w @ w.T, torch.eye(64, dtype=torch.float64), atol=1e-5, rtol=0)


def test_block_groups_partition_all_parameters(cifar_g, meta_build):
    groups = cifar_g.block_groups()
    assert list(groups) == ["dense_in", "stage8.pos", "stage8.block", "stage16.conv",
                            "stage16.pos", "stage16.block", "stage32.conv", "stage32.pos",
                            "stage32.block", "head"]
    ids = [id(p) for m in groups.values() for p in m.parameters()]
    assert len(ids) == len(set(ids)) == len(list(cifar_g.parameters()))
    assert "decoder" in meta_build("G", preset="ffhq_128").block_groups()


def test_ffhq_decoder_layout(meta_build):
    g = meta_build("G", preset="ffhq_128")
    convs = [m for m in g.decoder if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(256, 128), (128, 64)]
    # conv after pixel shuffle on dim/4 channels (TF), not dim[i+1] (PT port)
    assert [(s.conv.in_channels, s.conv.out_channels) for s in g.stages[1:]] == [(256, 512),
                                                                                   (128, 256)]
    bn = g.decoder[2]
    assert (bn.momentum, bn.eps) == (0.01, 1e-3)
    assert bn.weight.shape == (128,)


def test_g_conv_off_removes_exactly_the_two_convs(cifar_g, fast_model):
    g = fast_model("G", preset="cifar10_32", g_conv=False)
    # conv_8 256->256 3x3 (590,080) and conv_16 64->64 (36,928), docs/paper.md §5.3 table
    assert count_params(cifar_g) - count_params(g) == 590_080 + 36_928
    assert "stage16.conv" not in g.block_groups()
    with torch.no_grad():
        assert g(torch.randn(1, 128)).shape == (1, 3, 32, 32)


def test_g_mlp_residual_changes_output_not_params(fast_model):
    base = fast_model("G", preset="cifar10_32")
    g = fast_model("G", preset="cifar10_32", g_mlp_residual=True)
    for (k, a), b in zip(base.state_dict().items(), g.state_dict().values()):  # same seed
        assert torch.equal(a, b), k
    z = torch.randn(1, 128)
    with torch.no_grad():
        assert not torch.allclose(g(z), base(z))
    assert g.stages[0].block.mlp_residual and not base.stages[0].block.mlp_residual


def test_per_stage_attention_list(cifar_g, meta_build):
    g = meta_build("G", preset="cifar10_32", g_attention=["lada", "dot_product", "lada"])
    assert [s.block.attn.name for s in g.stages] == ["lada", "dot_product", "lada"]
    # Lada 4C²+Ch+4C+h vs MHSA 4C²+4C (docs/attention.md §8.1) at C=256, h=4
    assert count_params(cifar_g) - count_params(g) == 256 * 4 + 4
