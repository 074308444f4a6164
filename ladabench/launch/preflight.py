"""The pre-flight check of ``train``, ``run`` and ``run --dry-run``: what can be known about the
runs to launch before any model is built, on this machine. The names, the preset and resolution
are checked where the config is read (``ladabench.suite``); here: the data is there and readable
(with its image count), the extractor's weights file is there, the experiment trackers of
``train.log_to`` are installed, the device options work, and the results folder has room for
one checkpoint. Each problem is one line ``FILE: key: message``; all are raised at once, before
anything is written. Warnings protect the metric protocol: ``n_real`` capped by the real
split's size, an extractor used on data it was not made for.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Sequence

from ladabench.config import DataConfig, RunConfig
from ladabench.core.errors import ConfigError, ConfigErrors, DataError, Problem

#: bytes per stored value (fp32 weights and Adam moments)
BYTES_PER_VALUE = 4


class _Report:
    """The problems and warnings found so far, and what was already looked at."""

    def __init__(self, source: str, download: bool) -> None:
        self.source, self.download = source, download
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.counts: dict[DataConfig, int | None] = {}
        self.weights: set[tuple[str, str | None]] = set()

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(self.source, key, message))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(Problem(self.source, key, message))

    def error(self, err: ConfigError | DataError, key: str) -> None:
        """A raised error as a problem at ``key``, or at the key it names itself."""
        if isinstance(err, ConfigError):
            self.problem(err.problem.key, err.problem.message)
        else:
            self.problem(key, str(err).removeprefix(f"{key}: "))


def _image_count(data_cfg: DataConfig, key: str, report: _Report) -> int | None:
    """How many images ``data_cfg`` has (None: not registered, i.e. a plugin not run, or
    unreadable, which is reported)."""
    from ladabench.data import DATASETS, build_source

    if data_cfg not in report.counts:
        report.counts[data_cfg] = None
        if data_cfg.name in DATASETS:
            try:
                report.counts[data_cfg] = build_source(data_cfg).probe()
            except (ConfigError, DataError) as e:
                report.error(e, key)
    return report.counts[data_cfg]


def _check_n_real(cfg: RunConfig, count: int, report: _Report) -> None:
    e = cfg.eval
    in_training = e.every_images > 0 or bool(e.at_images)
    asked = [("eval.n_real", e.n_real)] * in_training + [("eval.final_n_real", e.final_n_real)]
    for key, n in asked:
        if n > count:
            report.warn(key, f"{n:,} real images asked, but the {e.real_split} split of "
                             f"{cfg.data.name!r} has {count:,}: FID/KID use all {count:,}, and "
                             f"the protocol records n_real {count} with n_real_requested {n}")


def _check_extractor(cfg: RunConfig, report: _Report) -> None:
    """Its weights file is there (unless ``report.download`` is off, a standard extractor may
    download it once: now rather than after training) and it suits the data set."""
    from ladabench.metrics.extractors import EXTRACTORS, get_extractor

    if cfg.eval.extractor.replace("-", "_") not in EXTRACTORS:
        return  # named by the config checks
    ext = get_extractor(cfg.eval.extractor)
    key = "eval.inception_weights" if cfg.eval.inception_weights else "eval.extractor"
    if (ext.name, cfg.eval.inception_weights) not in report.weights:
        report.weights.add((ext.name, cfg.eval.inception_weights))
        try:
            ext.weights(cfg.eval, download=report.download)
        except DataError as e:
            report.error(e, key)
    if ext.made_for and cfg.data.name not in ext.made_for:
        report.warn("eval.extractor", f"{ext.name} was made for {', '.join(ext.made_for)}, not "
                                      f"data set {cfg.data.name!r}: its FID/KID say little about "
                                      "these images (use inception-v3-compat for a standard FID)")


def _check_trackers(cfg: RunConfig, report: _Report) -> None:
    from ladabench.train.trackers import check_trackers

    try:
        check_trackers(cfg.train)
    except ConfigError as e:
        report.error(e, "train.log_to")


def _check_device(cfg: RunConfig, report: _Report) -> None:
    from ladabench.device import resolve_device
    from ladabench.train.setup import check_device_options

    try:
        check_device_options(cfg.train, resolve_device(cfg.train.device))
    except ConfigError as e:
        report.error(e, "train.device")


def checkpoint_bytes(cfg: RunConfig) -> int:
    """Size of one full checkpoint (``last.pt`` while training): G, its EMA copy and D, and the
    two Adam moments of G and of D, in fp32; the models are built on torch's ``meta`` device,
    which allocates nothing."""
    import torch

    from ladabench.models import build_discriminator, build_generator

    with torch.device("meta"):
        g = build_generator(cfg.model, cfg.train.noise_dim)
        d = build_discriminator(cfg.model)
    n_g, n_d = (sum(p.numel() for p in m.parameters()) for m in (g, d))
    return BYTES_PER_VALUE * (4 * n_g + 3 * n_d)


def _check_disk(configs: Sequence[RunConfig], out: Path, out_key: str, report: _Report) -> None:
    from ladabench.models import PRESETS

    models = {(c.model.model_dump_json(), c.train.noise_dim): c for c in configs
              if c.model.preset in PRESETS}  # a grid often varies the training only
    sizes = [checkpoint_bytes(c) for c in models.values()]
    if not sizes:
        return
    folder = next(p for p in (out.resolve(), *out.resolve().parents) if p.exists())
    free = shutil.disk_usage(folder).free
    if free < max(sizes):
        report.problem(out_key, f"{free / 1e9:.2f} GB free in {folder}/, one checkpoint needs "
                                f"{max(sizes) / 1e9:.2f} GB")


def preflight(configs: Sequence[RunConfig], source: str, out: str | Path, out_key: str, *,
              device: bool = True, download: bool = True) -> list[Problem]:
    """Check the runs ``configs`` (read from ``source``) that would write under ``out`` (the
    option or key ``out_key`` sets it); ``device``: also on this machine's devices (not for a
    SLURM launch from a login node); ``download``: a missing standard weights file may be
    downloaded (not for a dry run, which writes nothing). Raises ConfigErrors listing every
    problem; returns the warnings."""
    report = _Report(source, download)
    for cfg in configs:
        _image_count(cfg.data, "data.root", report)
        if cfg.eval.metrics:
            real = cfg.data.model_copy(update={"split": cfg.eval.real_split, "fraction": 1.0})
            count = _image_count(real, "eval.real_split", report)
            if count:
                _check_n_real(cfg, count, report)
            _check_extractor(cfg, report)
        _check_trackers(cfg, report)
        if device:
            _check_device(cfg, report)
    if not report.problems:
        _check_disk(configs, Path(out), out_key, report)
    if report.problems:
        raise ConfigErrors(list(dict.fromkeys(report.problems)))
    return list(dict.fromkeys(report.warnings))
