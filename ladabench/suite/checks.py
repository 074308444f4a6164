"""Checks on one resolved RunConfig that the pydantic schema cannot express: capability of the
model (attention shapes, preset), preset/resolution agreement, registered data set, metrics and
extractor, and schedule sanity. They return problems instead of raising, so a suite reports all
of them at once; each check looks its names up in the registry that owns them."""
from __future__ import annotations

from ladabench.config import RunConfig
from ladabench.core.errors import ConfigError, Problem


def _model_problems(cfg: RunConfig) -> list[tuple[str, str]]:
    from ladabench.models import validate_model_config

    try:
        preset = validate_model_config(cfg.model)
    except ConfigError as e:
        return [(p.key or "model.preset", p.message) for p in e.problems]
    if preset.img_size != cfg.data.resolution:
        return [("data.resolution", f"preset {cfg.model.preset!r} generates {preset.img_size}x"
                 f"{preset.img_size} images; expected data.resolution {preset.img_size}, "
                 f"got {cfg.data.resolution}")]
    return []


def _data_problems(cfg: RunConfig) -> list[tuple[str, str]]:
    from ladabench.data import DATASETS

    if cfg.data.name not in DATASETS:
        return [("data.name", DATASETS.unknown_message(cfg.data.name))]
    return []


def _train_problems(cfg: RunConfig) -> list[tuple[str, str]]:
    t = cfg.train
    if t.images < t.batch_size:
        return [("train.images", f"expected at least one batch (>= train.batch_size "
                 f"{t.batch_size}), got {t.images}")]
    return []


def _eval_problems(cfg: RunConfig) -> list[tuple[str, str]]:
    from ladabench.data import DATASETS
    from ladabench.metrics.evaluation import METRICS
    from ladabench.metrics.extractors import get_extractor

    out = [("eval.metrics", METRICS.unknown_message(m)) for m in cfg.eval.metrics if m not in METRICS]
    try:
        get_extractor(cfg.eval.extractor)
    except ConfigError as e:
        out.append((e.problem.key, e.problem.message))
    source = DATASETS.get(cfg.data.name) if cfg.data.name in DATASETS else None
    if "modes" in cfg.eval.metrics and source is not None and not hasattr(source, "mode_labels"):
        out.append(("eval.metrics", f"'modes' needs a data set with Stacked-MNIST modes "
                    f"(stacked_digits), got data.name {cfg.data.name!r}"))
    return out


def check_run(cfg: RunConfig, source: str = "") -> list[Problem]:
    """Every problem of one run (``source``: the file it came from); empty when it can be
    launched."""
    found = _model_problems(cfg) + _data_problems(cfg) + _train_problems(cfg) + _eval_problems(cfg)
    return [Problem(source, key, message) for key, message in found]


def scaling_options_model() -> type:
    """A strict pydantic model of ``run_scaling``'s keyword arguments (without ``out_dir`` and
    ``log``, which the launcher sets), built from its signature so the two cannot drift."""
    import inspect
    import typing

    from pydantic import ConfigDict, create_model

    from ladabench.measure.scaling import run_scaling

    hints = typing.get_type_hints(run_scaling)
    fields = {name: (hints[name], p.default) for name, p in inspect.signature(run_scaling).parameters.items()
              if name not in ("out_dir", "log")}
    return create_model("ScalingOptions", __config__=ConfigDict(extra="forbid", strict=False), **fields)


def check_scaling(options: dict, source: str = "", check_names: bool = True) -> list[Problem]:
    """Problems with the options of a ``kind: scaling`` suite (keyword arguments of
    ``ladabench.measure.scaling.run_scaling``): unknown keys, types, attention names, scopes."""
    from pydantic import ValidationError

    from ladabench.attention.registry import ATTENTIONS
    from ladabench.core.schema import validation_problems
    from ladabench.measure.scaling import SCOPES

    model = scaling_options_model()
    try:
        model.model_validate(options)
    except ValidationError as err:
        return validation_problems(err, model, source)
    out = [Problem(source, "variants", ATTENTIONS.unknown_message(v))
           for v in options.get("variants") or [] if check_names and v not in ATTENTIONS]
    out += [Problem(source, "scopes", f"unknown scope {s!r}; available: {', '.join(SCOPES)}")
            for s in options.get("scopes") or [] if s not in SCOPES]
    return out
