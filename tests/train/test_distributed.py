"""The process-group contract (environment variables → DistContext) and the global-batch
BatchNorm, on real gloo processes."""
from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from ladabench.core.errors import ConfigError
from ladabench.train.distributed import SINGLE, env_ranks, process_group, timeout_s
from ladabench.train.syncbn import SyncBatchNorm2d, convert_sync_batchnorm

from .ranks import launcher_env, on_ranks

DIST_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture
def clean_env(monkeypatch):
    for name in DIST_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_launcher_variables_mean_a_single_process(clean_env):
    assert env_ranks() == (0, 1, 0)
    with process_group("cpu") as (ctx, device):
        assert ctx == SINGLE and ctx.is_main and not ctx.active and device.type == "cpu"
        assert not dist.is_initialized()
        assert ctx.max(15, 0) == [15, 0] and ctx.gather(3) == [3]


@pytest.mark.parametrize("env, message", [
    ({"WORLD_SIZE": "2", "RANK": "0"}, "LOCAL_RANK: not set"),
    ({"WORLD_SIZE": "2", "RANK": "2", "LOCAL_RANK": "0"}, "RANK: expected 0 ... 1"),
    ({"WORLD_SIZE": "two"}, "WORLD_SIZE: expected an integer, got 'two'"),
    ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}, "MASTER_ADDR: not set"),
])
def test_bad_launcher_variables_are_one_line_errors(clean_env, env, message):
    for k, v in env.items():
        clean_env.setenv(k, v)
    with pytest.raises(ConfigError, match=message) as e:
        env_ranks()
    assert "\n" not in str(e.value) and str(e.value).startswith("environment: ")


def test_the_collective_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("LADABENCH_DIST_TIMEOUT_S", "90")
    assert timeout_s() == 90
    monkeypatch.setenv("LADABENCH_DIST_TIMEOUT_S", "soon")
    with pytest.raises(ConfigError, match="LADABENCH_DIST_TIMEOUT_S: expected seconds > 0"):
        timeout_s()


def test_a_named_gpu_cannot_be_shared_by_the_ranks(clean_env):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    for k, v in launcher_env(0, 2, 1).items():
        clean_env.setenv(k, v)
    with pytest.raises(ConfigError, match="names one GPU"):
        with process_group("cuda:0"):
            pass


# ---- BatchNorm over the global batch -------------------------------------------------------
def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4, momentum=0.3),
                         nn.LeakyReLU(0.2), nn.Conv2d(4, 4, 3, stride=2, padding=1),
                         nn.BatchNorm2d(4, eps=1e-3), nn.Flatten(), nn.Linear(64, 5))


def _batch() -> torch.Tensor:
    return torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(1)) * 2 + 0.5


def _loss_and_r1_grads(net: nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    """Gradients of a mean loss plus an R1 penalty (a double backward) on ``x``."""
    x = x.detach().requires_grad_(True)
    logits = net(x)
    (grad,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
    loss = F.softplus(-logits).mean() + grad.square().sum(dim=(1, 2, 3)).mean()
    loss.backward()
    return [p.grad for p in net.parameters()]


def _averaged_grads(net: nn.Module, ctx) -> list[torch.Tensor]:
    b = 8 // ctx.world_size
    grads = _loss_and_r1_grads(net, _batch()[ctx.rank * b:(ctx.rank + 1) * b])
    for g in grads:
        dist.all_reduce(g)
        g /= ctx.world_size
    return grads


def _bn_rank() -> dict:
    """On one of 2 ranks: half of the batch, the gradients averaged over the ranks, with
    SyncBatchNorm2d and (the wrong variant) with per-rank BatchNorm2d."""
    with process_group("cpu") as (ctx, _):
        net = convert_sync_batchnorm(_net())
        kinds = {type(m).__name__ for m in net.modules()}
        return {"grads": _averaged_grads(net, ctx), "state": net.state_dict(), "kinds": kinds,
                "local_grads": _averaged_grads(_net(), ctx)}


def test_sync_batchnorm_gives_the_gradients_and_statistics_of_one_process(tmp_path):
    """2 ranks × 4 samples with SyncBatchNorm2d = one process × 8 samples with BatchNorm2d,
    through R1's double backward; per-rank BatchNorm (the wrong variant) differs."""
    net = _net()
    ref = _loss_and_r1_grads(net, _batch())
    ranks = on_ranks(2, tmp_path, _bn_rank)
    for rank in ranks:
        assert "SyncBatchNorm2d" in rank["kinds"] and "BatchNorm2d" not in rank["kinds"]
        for g, r in zip(rank["grads"], ref):
            torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)
        for name, t in net.state_dict().items():  # running statistics, unbiased over 8
            torch.testing.assert_close(rank["state"][name], t, rtol=1e-5, atol=1e-6)
    worst = max((g - r).abs().max().item() for g, r in zip(ranks[0]["local_grads"], ref))
    assert worst > 1e-3


def test_sync_batchnorm_is_batchnorm_in_eval_mode_and_keeps_its_state_dict():
    bn = nn.BatchNorm2d(4, momentum=0.2)
    bn.running_mean.fill_(0.5)
    sync = convert_sync_batchnorm(bn)
    assert isinstance(sync, SyncBatchNorm2d) and sync.state_dict().keys() == bn.state_dict().keys()
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(sync.eval()(x), bn.eval()(x), rtol=0, atol=0)
