"""Device resolution, device-dependent checks, and the channels_last departure keeping the maths."""
from __future__ import annotations

import pytest
import torch

from ladabench.config import RunConfig
from ladabench.core.errors import ConfigError
from ladabench.config.train import TrainConfig
from ladabench.device import resolve_device
from ladabench.train.setup import build_setup, check_device_options

from .tiny import tiny_overrides


def test_device_resolution_and_errors():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="train.device: 'gpu0' is not a torch device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda' requested but CUDA is not available"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="train.amp: 'bf16' autocast is a GPU option"):
        check_device_options(TrainConfig(amp="bf16"), torch.device("cpu"))


def _one_d_and_g_step(channels_last: bool) -> dict[str, torch.Tensor]:
    """The gradients of D's and G's first steps, and the D step's losses (same seed)."""
    cfg = RunConfig.model_validate(tiny_overrides(channels_last=channels_last))
    s = build_setup(cfg, torch.device("cpu"), dataset=torch.utils.data.TensorDataset(torch.zeros(8)))
    torch.manual_seed(1)
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    if channels_last:
        real = real.contiguous(memory_format=torch.channels_last)
    d_stats, _ = s.d_step(real, do_r1=True)
    out = {f"D.{n}": p.grad.float().contiguous() for n, p in s.D.named_parameters()}
    s.g_step()
    out.update({f"G.{n}": p.grad.float().contiguous() for n, p in s.G.named_parameters()})
    out.update({f"stat.{k}": v.float() for k, v in d_stats.items()})
    return out


def test_channels_last_is_a_layout_change_only():
    """NCHW and NHWC compute the same D and G gradients and losses, to float rounding. (The
    weights after one Adam step would hide a wrong gradient: Adam's first step moves every
    weight by about ±lr whatever the gradient's size.)"""
    nchw, nhwc = _one_d_and_g_step(False), _one_d_and_g_step(True)
    assert nchw.keys() == nhwc.keys()
    # rounding is judged against the largest gradient of the same network: some gradients are
    # exactly 0 in exact arithmetic (softmax is shift-invariant: q_attn biases) and float noise
    scale = {net: max(float(v.abs().max()) for k, v in nchw.items() if k.startswith(net))
             for net in ("D.", "G.", "stat.")}
    for k, v in nchw.items():
        net = next(n for n in scale if k.startswith(n))
        torch.testing.assert_close(nhwc[k], v, rtol=1e-4, atol=1e-6 * scale[net], msg=k)
