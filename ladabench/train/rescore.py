"""``ladabench eval``: score a run directory, a checkpoint or a set of image files again, without
the training code path (e.g. with Inception weights on a login node, for a run trained offline).

A run directory is scored through the checkpoint its protocol selects (``best.pt``, else
``last.pt``). The results of a run directory, or of a checkpoint inside one, are written into
its ``summary.json`` under ``scores.<metric>.<protocol id>`` (contract 3), atomically; a value of
another protocol is never overwritten. Scores of the selected checkpoint also fill
``final.<metric>`` when the run has none of that metric, or one of the same protocol. Image
files are scored as they are and written nowhere (they are not known to be the run's generator).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from ladabench.config import RunConfig, apply_overrides, load_run_config
from ladabench.core.errors import ConfigError, DataError
from ladabench.core.protocol import protocol_id
from ladabench.core.rundir import RunDir, RunLock, read_summary, write_summary
from ladabench.core.schema import parse_model
from ladabench.train.trained import load_trained, selected_checkpoint

Protocol = Literal["final", "in-loop"]
#: config sections ``--set`` may change when scoring
SETTABLE = ("data.", "eval.")


@dataclass(frozen=True)
class EvalOptions:
    """What ``ladabench eval`` changes in the run's ``eval`` section (None = keep it)."""

    #: sample counts of the ``final`` protocol (final_n_gen/final_n_real) or the in-loop one
    protocol: Protocol = "final"
    extractor: str | None = None
    metrics: tuple[str, ...] | None = None
    n_gen: int | None = None
    n_real: int | None = None
    inception_weights: str | None = None
    #: run directory or config file that gives an image set its data set and eval settings
    config: str | RunConfig | None = None
    #: ``data.*`` / ``eval.*`` overrides (``key.path=value``), e.g. where the data set lives here
    sets: tuple[str, ...] = ()


def is_run_or_checkpoint(path: Path) -> bool:
    return path.suffix == ".pt" or (path.is_dir() and (RunDir(path).config.is_file()
                                                        or (path / "checkpoints").is_dir()))


def with_sets(cfg: RunConfig, sets: tuple[str, ...]) -> RunConfig:
    """``cfg`` with ``data.*`` / ``eval.*`` overrides (the generator is built already: other
    sections cannot change what is scored)."""
    if not sets:
        return cfg
    for item in sets:
        if not item.split("=", 1)[0].strip().startswith(SETTABLE):
            raise ConfigError(f"only data.* and eval.* keys can change when scoring, got {item!r}",
                              key="--set")
    return parse_model(RunConfig, apply_overrides(cfg.to_dict(), list(sets)), "--set")


def eval_config(cfg: RunConfig, opts: EvalOptions) -> tuple[RunConfig, int, int]:
    """(the config with ``opts`` applied, n_gen, n_real)."""
    cfg = with_sets(cfg, opts.sets)
    e = cfg.eval
    update = {k: v for k, v in (("extractor", opts.extractor), ("inception_weights",
              opts.inception_weights)) if v is not None}
    if opts.metrics is not None:
        update["metrics"] = list(opts.metrics)
    cfg = cfg.model_copy(update={"eval": e.model_copy(update=update)})
    final = opts.protocol == "final"
    n_gen = opts.n_gen or (e.final_n_gen if final else e.n_gen)
    n_real = opts.n_real or (e.final_n_real if final else e.n_real)
    return cfg, n_gen, n_real


def _image_config(opts: EvalOptions) -> RunConfig:
    if opts.config is None:
        raise ConfigError("scoring image files needs the run they compare with: --config "
                          "RUN_DIR or --config CONFIG.yaml (data set and eval settings)",
                          key="--config")
    if isinstance(opts.config, RunConfig):
        return opts.config
    path = Path(opts.config)
    return load_run_config(RunDir(path).config if path.is_dir() else path)


def rescore(target: str | Path, opts: EvalOptions, device: torch.device) -> dict[str, Any]:
    """``{"target", "checkpoint", "images_seen", "results", "written_to"}`` for ``target`` (a run
    directory, a ``.pt`` checkpoint, a folder of images or an ``.npz``)."""
    from ladabench.metrics import evaluate
    from ladabench.metrics.fidelity import ImageTensor
    from ladabench.train.generate import read_images

    target = Path(target)
    if not target.exists():
        raise DataError(f"{target}: not found (expected a run directory, a checkpoint, an image "
                        "folder or an .npz)")
    if is_run_or_checkpoint(target):
        return _rescore_trained(target, opts, device)
    cfg, _, n_real = eval_config(_image_config(opts), opts)
    images = read_images(target, cfg.data.resolution)
    if opts.n_gen is not None and opts.n_gen != len(images):
        raise ConfigError(f"{target} holds {len(images)} images, not {opts.n_gen}", key="--n-gen")
    results = evaluate(ImageTensor(images), cfg, len(images), n_real, device)
    return {"target": str(target), "checkpoint": None, "images_seen": None, "results": results,
            "written_to": None}


def _rescore_trained(target: Path, opts: EvalOptions, device: torch.device) -> dict[str, Any]:
    """Score a run directory or a checkpoint; inside a run directory, hold its lock (no trainer
    writes the summary meanwhile) and write the results into it."""
    from ladabench.metrics import evaluate

    trained = load_trained(target, device)
    cfg, n_gen, n_real = eval_config(trained.cfg, opts)
    info = {"checkpoint": trained.checkpoint.name, "images_seen": trained.images_seen}
    out = {"target": str(target), **info, "written_to": None}
    if trained.run_dir is None:
        return {**out, "results": evaluate(trained.generator, cfg, n_gen, n_real, device)}
    rd = RunDir(trained.run_dir)
    with RunLock(rd):
        results = evaluate(trained.generator, cfg, n_gen, n_real, device)
        selected = selected_checkpoint(rd).resolve() == trained.checkpoint.resolve()
        write_scores(rd, results, info, selected)
    return {**out, "results": results, "written_to": str(rd.summary)}


def merge_scores(summary: dict, results: dict[str, Any], info: dict[str, Any],
                 selected: bool) -> dict:
    """``summary`` with ``results`` under ``scores.<metric>.<protocol id>``; when they are the
    selected checkpoint's and the run has no final value of a metric, or one of the same
    protocol, under ``final`` too."""
    scores = summary.setdefault("scores", {})
    final = summary.setdefault("final", {})
    for metric, value in results.items():
        entry = {**value, **info}
        pid = protocol_id(value.get("protocol"))
        scores.setdefault(metric, {})[pid] = entry
        same = metric in final and protocol_id(final[metric].get("protocol")) == pid
        if selected and (metric not in final or same):
            final[metric] = entry
    return summary


def write_scores(rd: RunDir, results: dict[str, Any], info: dict[str, Any],
                 selected: bool) -> None:
    summary = read_summary(rd)
    if summary is None:
        raise DataError(f"{rd.summary}: missing; the run directory has no summary to write to")
    write_summary(rd, merge_scores(summary, results, info, selected))
