"""BatchNorm over the global batch of a distributed run (``train.sync_batchnorm``,
docs/distributed.md).

torch's ``nn.SyncBatchNorm`` cannot serve here: it refuses CPU tensors (so no gloo run), and its
backward is a fused kernel without a derivative, while R1 differentiates D's input gradient
once more. :class:`SyncBatchNorm2d` computes the batch statistics from differentiable ops and
torch's functional ``all_reduce`` (whose backward is again an all_reduce), so every derivative
order sees the statistics of the whole global batch, exactly as one process with that batch.
Its state dict is BatchNorm2d's: checkpoints move between world sizes unchanged.
"""
from __future__ import annotations

import torch
import torch.distributed as dist
import torch.distributed._functional_collectives as fc
from torch import nn


def _global_mean(x: torch.Tensor) -> torch.Tensor:
    """Per channel mean of ``x`` (B, C, H, W) over the batches of all ranks (equal sizes),
    differentiable in every order."""
    local = x.mean(dim=(0, 2, 3))
    return fc.all_reduce(local, "sum", dist.group.WORLD) / dist.get_world_size()


class SyncBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the global batch (the ranks of the
    default process group); every rank must hold the same number of samples (the trainer
    splits the global batch evenly). Mean and variance take one all_reduce each (the two-pass
    variance of one process, not E[x²] - E[x]²). In eval mode it is BatchNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return super().forward(x)
        dtype = x.dtype
        x = x.float()  # statistics in fp32 under bf16 autocast too, as BatchNorm keeps them
        mean = _global_mean(x)  # (C,)
        centred = x - mean[None, :, None, None]
        var = _global_mean(centred.square())  # biased, as BatchNorm normalises
        if self.track_running_stats:
            self._update_running(mean.detach(), var.detach(), x.numel() // x.shape[1])
        out = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            out = out * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return out.to(dtype)

    @torch.no_grad()
    def _update_running(self, mean: torch.Tensor, var: torch.Tensor, local_count: int) -> None:
        """BatchNorm's running statistics (unbiased variance over the global count)."""
        self.num_batches_tracked.add_(1)
        factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                  else self.momentum)
        n = local_count * dist.get_world_size()
        self.running_mean.lerp_(mean, factor)
        self.running_var.lerp_(var * (n / max(n - 1, 1)), factor)


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every ``BatchNorm2d`` replaced by a :class:`SyncBatchNorm2d` holding the
    same parameters and buffers (in place for children; the new module when ``module`` is one)."""
    if isinstance(module, nn.BatchNorm2d) and not isinstance(module, SyncBatchNorm2d):
        sync = SyncBatchNorm2d(module.num_features, module.eps, module.momentum, module.affine,
                               module.track_running_stats)
        sync.load_state_dict(module.state_dict())
        return sync.to(module.running_mean.device if module.track_running_stats else
                       module.weight.device if module.affine else "cpu")
    for name, child in module.named_children():
        setattr(module, name, convert_sync_batchnorm(child))
    return module
