"""Per-step observability without per-step host syncs.

Each training step produces one row of statistics as an on-device tensor; :class:`StatsLog`
keeps the rows of the current log interval and moves them to the host once per interval. The
host then (a) finds the first non-finite row (divergence at that exact step), (b) checks the
gradient norms against their rolling median (spikes), (c) averages the interval into one
``metrics.jsonl`` record (architecture.md contract 2).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

#: statistics of one D step then one G step, in row order (grad norms are appended after them)
STEP_STATS = (
    "loss/G", "loss/D", "loss/D_real", "loss/D_fake", "r1", "cr", "logits/real", "logits/fake",
)
#: hidden column: 1 on steps that computed R1 (lazy R1), used as the denominator of ``r1``
R1_ON = "_r1_on"


class GradNorms:
    """Gradient norms of one model after ``backward()``: global L2, the reference's mean of
    per-tensor L2 norms (the official PyTorch port's ``d_l2_norm``, docs/paper.md §14.3), and
    the global L2 norm per ``block_groups()`` entry.

    Parameters outside every block are reported as block ``other``.
    """

    def __init__(self, model: nn.Module, tag: str) -> None:
        self.params = [p for p in model.parameters() if p.requires_grad]
        owner = {}
        groups = dict(model.block_groups()) if hasattr(model, "block_groups") else {}
        for name, module in groups.items():
            for p in module.parameters():
                owner.setdefault(id(p), name)
        blocks = list(groups)
        if any(id(p) not in owner for p in self.params):
            blocks.append("other")
        member = torch.zeros(len(blocks), len(self.params))
        for j, p in enumerate(self.params):
            member[blocks.index(owner.get(id(p), "other")), j] = 1.0
        self.member = member.to(self.params[0].device)  # (n_blocks, n_params)
        self.names = [f"grad_norm/{tag}", f"grad_norm_mean/{tag}"] + [
            f"grad_norm/{tag}/{b}" for b in blocks
        ]

    def __call__(self) -> torch.Tensor:
        """(2 + n_blocks,) on the parameters' device: global, mean-of-tensors, per block."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        norms = torch.stack(torch._foreach_norm(grads)).float()  # (n_params,)
        sq = norms.square()
        head = torch.stack([sq.sum().sqrt(), norms.mean()])
        return torch.cat([head, (self.member @ sq).sqrt()])


@dataclass
class Interval:
    """What one log interval produced, on the host."""

    record: dict  # the ``train`` metrics.jsonl fields (means over the interval)
    bad_step: int | None  # first step with a non-finite statistic
    spikes: list[dict]  # spike events (name, value, median, step)


class StatsLog:
    """Collects per-step rows ``(n_stats,)`` on the device; :meth:`flush` syncs once."""

    def __init__(self, names: list[str], spike_names: list[str], factor: float, window: int) -> None:
        self.names = names
        self.rows: list[torch.Tensor] = []
        self.steps: list[int] = []
        self.factor = factor
        self.spike_cols = [names.index(n) for n in spike_names]
        self.history = {n: deque(maxlen=window) for n in spike_names}
        self.min_history = min(window, 10)

    def push(self, step: int, row: torch.Tensor) -> None:
        self.rows.append(row)
        self.steps.append(step)

    def __len__(self) -> int:
        return len(self.rows)

    def flush(self, reduce: Callable[[torch.Tensor], torch.Tensor] | None = None
              ) -> Interval | None:
        """Move the interval to the host and analyse it; ``None`` if no step was pushed.
        ``reduce`` combines the rows of the ranks of a multi-process run (their mean)."""
        if not self.rows:
            return None
        rows = torch.stack(self.rows).detach()
        if reduce is not None:
            rows = reduce(rows)
        data = rows.cpu().double().numpy()  # (n_steps, n_stats)
        steps, self.rows, self.steps = self.steps, [], []
        finite = np.isfinite(data).all(axis=1)
        bad = None if finite.all() else steps[int(np.argmin(finite))]
        good = data[: np.argmin(finite)] if bad is not None else data
        return Interval(self._means(good), bad, self._spikes(good, steps))

    def _means(self, data: np.ndarray) -> dict:
        if len(data) == 0:
            return {}
        mean = data.mean(axis=0)
        out = {n: float(v) for n, v in zip(self.names, mean) if not n.startswith("_")}
        r1_steps = data[:, self.names.index(R1_ON)].sum()
        r1_col = data[:, self.names.index("r1")].sum()
        out["r1"] = float(r1_col / r1_steps) if r1_steps else None  # no R1 step in the interval
        return out

    def _spikes(self, data: np.ndarray, steps: list[int]) -> list[dict]:
        events = []
        for i, row in enumerate(data):
            for name, col in zip(self.history, self.spike_cols):
                hist = self.history[name]
                if len(hist) >= self.min_history:
                    median = float(np.median(hist))
                    if row[col] > self.factor * median:
                        events.append(
                            {"name": name, "value": float(row[col]), "median": median, "step": steps[i]}
                        )
                hist.append(float(row[col]))
        return events
