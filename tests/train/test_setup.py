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


def test_channels_last_is_a_layout_change_only():
    """Same seed, one D and one G step: NCHW and NHWC runs agree to float rounding."""
    states = []
    for cl in (False, True):
        cfg = RunConfig.model_validate(tiny_overrides(channels_last=cl))
        s = build_setup(cfg, torch.device("cpu"), dataset=torch.utils.data.TensorDataset(torch.zeros(8)))
        torch.manual_seed(1)
        real = torch.rand(8, 3, 32, 32) * 2 - 1
        if cl:
            real = real.contiguous(memory_format=torch.channels_last)
        s.d_step(real, do_r1=True)
        s.g_step()
        states.append({k: v.float().contiguous() for k, v in s.G_ema.state_dict().items()})
    for k, v in states[0].items():
        torch.testing.assert_close(states[1][k], v, rtol=1e-4, atol=1e-5, msg=k)
