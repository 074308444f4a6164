"""Device resolution, device-dependent checks, and the departures (channels_last, compile) that
keep the maths."""
from __future__ import annotations

import pytest
import torch

from ladabench.config import RunConfig
from ladabench.config.train import TrainConfig
from ladabench.core.errors import ConfigError
from ladabench.device import resolve_device
from ladabench.train import setup
from ladabench.train.setup import SlowOptionWarning, build_setup, check_device_options

from .tiny import tiny_overrides


def test_device_resolution_and_errors():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="train.device: 'gpu0' is not a torch device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="'cuda' requested but CUDA is not available"):
            resolve_device("cuda")
    with pytest.raises(ConfigError, match="train.tf32: TensorFloat-32 is a CUDA option; device is cpu"):
        check_device_options(TrainConfig(tf32=True), torch.device("cpu"))


def test_tf32_sets_both_cuda_flags_and_off_means_strict_fp32():
    """Setting the flags needs no GPU; cuDNN convolutions default to TF32 in PyTorch, so off
    must switch them off too. A CPU run leaves the flags alone."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    try:
        for on in (True, False):
            setup.set_fp32_precision(TrainConfig(tf32=on), torch.device("cuda"))
            assert torch.backends.cuda.matmul.allow_tf32 is on
            assert torch.backends.cudnn.allow_tf32 is on
        setup.set_fp32_precision(TrainConfig(tf32=True), torch.device("cpu"))
        assert not torch.backends.cuda.matmul.allow_tf32
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before


@pytest.mark.parametrize("support", ["amx", "avx512_bf16", None])
def test_bf16_on_a_cpu_warns_only_without_bf16_instructions(support, monkeypatch, recwarn):
    monkeypatch.setattr(setup, "cpu_bf16_support", lambda: support)
    check_device_options(TrainConfig(amp="bf16"), torch.device("cpu"))
    slow = [w for w in recwarn if issubclass(w.category, SlowOptionWarning)]
    assert len(slow) == (support is None)
    if slow:
        assert "no AMX, no AVX512-BF16" in str(slow[0].message)


def test_cpu_bf16_support_reads_the_cpu_flags():
    flags = set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    expected = "amx" if "amx_tile" in flags else "avx512_bf16" if "avx512_bf16" in flags else None
    assert setup.cpu_bf16_support() == expected


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


@pytest.mark.slow
def test_compile_trains_with_r1_every_step_and_keeps_the_maths():
    """torch.compile with R1 on (no double backward in AOTAutograd: R1 steps run the eager D,
    the G step the compiled one): three steps equal the eager run's to float rounding."""
    states = []
    for compiled in (False, True):
        cfg = RunConfig.model_validate(tiny_overrides(compile=compiled, deterministic=False))
        s = build_setup(cfg, torch.device("cpu"), dataset=[])
        gen = torch.Generator().manual_seed(1)
        for _ in range(3):
            real = torch.rand(8, 3, 32, 32, generator=gen) * 2 - 1
            s.d_step(real, do_r1=True)
            s.g_step()
        states.append({**s.G_ema.state_dict(), **{f"D.{k}": v for k, v in s.D.state_dict().items()}})
    for k, v in states[0].items():
        torch.testing.assert_close(states[1][k], v, rtol=1e-3, atol=1e-4, msg=k)
