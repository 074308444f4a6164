"""What the optimised training step must keep equal: forward outputs, the statistics row, the
gradients of one D and one G step, and every parameter, buffer and optimiser moment after a few
steps, for the tiny preset at fp32 (deterministic, one thread).

``python tests/train/step_reference.py`` records them into ``data/step_reference.pt``; the file
in the repository was recorded from the engine as it was BEFORE the speed work (commit message
says which), so ``test_step_reference.py`` compares today's step with that step's outputs.
R1's weight is raised to 0.1 here so that a wrong R1 term moves D's gradients far beyond the
tolerance (at the paper's 1e-4 it would hide under rounding), and the EMA decay lowered to 0.5 so
that three updates move the EMA generator visibly.
"""
from __future__ import annotations

import sys
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script: make ``tests/train`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from tiny import register_tiny, tiny_overrides  # type: ignore[no-redef]
else:
    from .tiny import register_tiny, tiny_overrides

FIXTURE = Path(__file__).resolve().parent / "data" / "step_reference.pt"
BATCH, STEPS = 4, 3
#: the settings recorded: paper defaults, and bCR with every DiffAugment policy
CASES = {
    "paper": {},
    "bcr_cutout": {"bcr": True, "diffaug": "color,translation,cutout"},
}
#: what is stored per case (G's gradients once only: they are most of the file)
KEPT = {
    "paper": ("G_forward", "D_forward_eval", "D_grads", "G_grads", "stat_rows", "D_state",
              "G_ema_forward"),
    "bcr_cutout": ("D_grads", "stat_rows", "D_state", "G_ema_forward"),
}


def _config(case: str):
    from ladabench.config import RunConfig

    train = {"batch_size": BATCH, "r1_weight": 0.1, "ema_decay": 0.5, **CASES[case]}
    return RunConfig.model_validate(tiny_overrides(**train))


def _clone(tensors) -> list[torch.Tensor]:
    return [t.detach().clone() for t in tensors]


def compute(case: str) -> dict[str, torch.Tensor | list[torch.Tensor]]:
    """Run the tiny model through forward passes and ``STEPS`` train steps; return the tensors
    ``KEPT[case]`` names (each a tensor or a list of per-parameter tensors)."""
    from ladabench.train.observe import STEP_STATS
    from ladabench.train.setup import build_setup

    register_tiny()
    cfg = _config(case)
    torch.set_num_threads(1)
    s = build_setup(cfg, torch.device("cpu"), dataset=[])
    gen = torch.Generator().manual_seed(123)  # inputs from their own stream
    real = torch.rand(BATCH, 3, 32, 32, generator=gen) * 2 - 1  # (B, 3, 32, 32)
    z = torch.randn(BATCH, cfg.train.noise_dim, generator=gen)  # (B, Z)
    out: dict = {}
    with torch.no_grad():
        out["G_forward"] = s.G(z).clone()
        out["D_forward_eval"] = s.D.eval()(real).clone()
        s.D.train()
    rows = []
    for step in range(STEPS):
        d_stats, d_gn = s.d_step(real, do_r1=True)
        if step == 0:
            out["D_grads"] = _clone(p.grad for p in s.D.parameters())
        g_stats, g_gn = s.g_step()
        if step == 0:
            out["G_grads"] = _clone(p.grad for p in s.G.parameters())
        stats = {**d_stats, **g_stats}
        rows.append(torch.cat([torch.stack([stats[n] for n in STEP_STATS]), d_gn, g_gn]))
    out["stat_rows"] = torch.stack(rows).detach()  # (STEPS, n_stats)
    out["D_state"] = _clone(s.D.state_dict().values())  # parameters and BatchNorm statistics
    with torch.no_grad():
        out["G_ema_forward"] = s.G_ema(z).clone()
    return {k: out[k] for k in KEPT[case]}


def record(path: Path = FIXTURE) -> None:
    data = {case: compute(case) for case in CASES}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(data, tmp)
    tmp.replace(path)
    print(f"wrote {path}")


if __name__ == "__main__":
    record(Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURE)
