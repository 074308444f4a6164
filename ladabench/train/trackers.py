"""Experiment trackers (``train.log_to``): TensorBoard and Weights & Biases receive what
``metrics.jsonl`` receives, which stays the source of truth.

Every record the trainer appends to ``metrics.jsonl`` goes through :meth:`Trackers.record`:
``train`` lines become scalars under their own keys (``loss/G``, ``grad_norm/D/<block>``,
``img_per_s``, ...), ``eval`` lines become ``eval/<metric>`` (and ``eval/<metric>_std`` where
the metric has one), and ``sample`` events bring their PNG files (``samples/grid``,
``samples/attn``, ``samples/real``); a finished run's final evaluation (``summary.json``)
becomes ``final/<metric>`` and ``final_last/<metric>`` at its last step. The x axis is the
images seen. TensorBoard writes to ``<run>/tensorboard/``; W&B (offline by default,
``train.wandb_mode``) to ``<run>/wandb/``, as the run ``<run id>`` of the project
``train.wandb_project``, grouped by suite and resumed under the same id. Neither package is a
dependency of ladabench: each is an optional extra.
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from ladabench.config import RunConfig
from ladabench.config.train import TrainConfig
from ladabench.core.errors import ConfigError
from ladabench.core.rundir import RunDir

#: tracker name → the module it needs (the optional extra of the same name installs it)
MODULES = {"tensorboard": "tensorboard", "wandb": "wandb"}
#: record fields that place a record rather than measure something
_PLACE = {"kind", "step", "images_seen", "wall_time_s"}


def check_trackers(t: TrainConfig) -> None:
    """A one-line ConfigError (exit 2) for a tracker whose package is not installed."""
    for name in t.log_to:
        if importlib.util.find_spec(MODULES[name]) is None:
            raise ConfigError(f"{name} is not installed; install it with "
                              f"pip install 'ladabench[{name}]'", key="train.log_to")


def scalars(record: dict[str, Any]) -> dict[str, float]:
    """The numbers of a ``metrics.jsonl`` record, by tracker tag (empty for events)."""
    if record["kind"] == "train":
        return {k: float(v) for k, v in record.items() if k not in _PLACE
                and isinstance(v, (int, float)) and not isinstance(v, bool)}
    if record["kind"] != "eval":
        return {}
    out = {}
    for metric, result in record["results"].items():
        out[f"eval/{metric}"] = float(result["value"])
        if result.get("std") is not None:
            out[f"eval/{metric}_std"] = float(result["std"])
    return out


def final_scalars(final: dict[str, Any]) -> dict[str, float]:
    """``final/<metric>`` and ``final_last/<metric>`` of a finished run's final scores
    (``summary.json``'s ``final`` and ``final_last``)."""
    return {f"{which}/{metric}": float(result["value"])
            for which, results in final.items() for metric, result in results.items()}


def images(record: dict[str, Any], samples: Path) -> dict[str, Path]:
    """The PNG files a ``sample`` event announces, by tracker tag (``samples/grid``, ...)."""
    if record.get("event") != "sample":
        return {}
    return {f"samples/{name.split('_')[0].removesuffix('.png')}": samples / name
            for name in record["files"] if name.endswith(".png")}


def read_png(path: Path) -> np.ndarray:
    """(H, W, 3) uint8."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


class Tracker(Protocol):
    def log(self, step: int, values: dict[str, float], pictures: dict[str, Path]) -> None: ...

    def close(self) -> None: ...


class TensorBoardTracker:
    """Scalars and images in ``<run>/tensorboard/`` (``tensorboard --logdir results/<suite>``
    shows every run of a suite)."""

    def __init__(self, cfg: RunConfig, rd: RunDir) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(rd.path / "tensorboard"))

    def log(self, step: int, values: dict[str, float], pictures: dict[str, Path]) -> None:
        for tag, value in values.items():
            self.writer.add_scalar(tag, value, global_step=step)
        for tag, path in pictures.items():
            self.writer.add_image(tag, read_png(path), global_step=step, dataformats="HWC")
        self.writer.flush()  # a killed run keeps what metrics.jsonl has

    def close(self) -> None:
        self.writer.close()


class WandbTracker:
    """One W&B run per run folder, with the run config as its config; W&B's own console
    capture is off (the job's log keeps the output)."""

    def __init__(self, cfg: RunConfig, rd: RunDir) -> None:
        import wandb

        self.wandb = wandb
        self.run = wandb.init(
            project=cfg.train.wandb_project, mode=cfg.train.wandb_mode, dir=str(rd.path),
            id=re.sub(r"[^A-Za-z0-9_-]", "-", cfg.run_id()), name=cfg.run_id(), group=cfg.suite,
            config=cfg.to_dict(), resume="allow", settings=wandb.Settings(console="off"),
        )
        self.run.define_metric("images_seen")
        self.run.define_metric("*", step_metric="images_seen")

    def log(self, step: int, values: dict[str, float], pictures: dict[str, Path]) -> None:
        media = {tag: self.wandb.Image(str(path)) for tag, path in pictures.items()}
        self.run.log({"images_seen": step, **values, **media})

    def close(self) -> None:
        self.run.finish()


TRACKERS: dict[str, type] = {"tensorboard": TensorBoardTracker, "wandb": WandbTracker}


class Trackers:
    """The trackers of ``cfg.train.log_to``; :meth:`record` takes every ``metrics.jsonl``
    record (after it was written)."""

    def __init__(self, cfg: RunConfig, rd: RunDir) -> None:
        check_trackers(cfg.train)
        self.samples = rd.samples
        self.sinks: list[Tracker] = [TRACKERS[name](cfg, rd) for name in cfg.train.log_to]

    def record(self, record: dict[str, Any]) -> None:
        if self.sinks:
            self._log(record["images_seen"], scalars(record), images(record, self.samples))

    def final(self, final: dict[str, Any], images_seen: int) -> None:
        """The final evaluation's scores, at the run's last images-seen count."""
        self._log(images_seen, final_scalars(final), {})

    def _log(self, images_seen: int, values: dict[str, float], pictures: dict[str, Path]) -> None:
        if values or pictures:
            for sink in self.sinks:
                sink.log(images_seen, values, pictures)

    def close(self) -> None:
        for sink in self.sinks:
            sink.close()
        self.sinks = []
