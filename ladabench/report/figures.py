"""Figures of the report (matplotlib Agg + seaborn), each returned as a PNG data URI so the HTML
is self-contained. Every function takes :class:`ladabench.results.Results` and returns a list of
:class:`Figure` (empty when the data it needs is absent)."""
from __future__ import annotations

import base64
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot/seaborn: no display on clusters
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402

from ladabench.results import Results  # noqa: E402

SAMPLE_NAME = re.compile(r"^(grid|attn)_(\d{12})\.(png|npz)$")
#: longest side of an embedded sample image (keeps the report small; grids are ~274 px)
THUMB_PX = 1024
#: attention-map snapshots shown per run (evenly spaced over training, the last included)
ATTN_SNAPSHOTS = 4
#: attention maps are drawn relative to the uniform map, on a log scale over this factor
ATTN_RANGE = 8.0


@dataclass
class Figure:
    title: str
    uri: str
    caption: str = ""


def plain_text():
    """A matplotlib context in which text is drawn as written: ``$...$`` in a run, variant or
    plugin name is not parsed as mathtext (a malformed one would abort the whole report)."""
    return plt.rc_context({"text.parse_math": False})


def png_uri(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _with_variant(df: pd.DataFrame, results: Results) -> pd.DataFrame:
    return df.merge(results.runs[["run_id", "variant", "seed"]], on="run_id", how="left")


def palette(results: Results) -> dict[str, tuple]:
    """One colour per variant, the same in every figure."""
    variants = sorted(results.runs["variant"].astype(str).unique())
    return dict(zip(variants, sns.color_palette("tab10", max(len(variants), 1))))


def _legend_outside(ax: plt.Axes) -> None:
    if ax.get_legend() is not None:
        sns.move_legend(ax, "upper left", bbox_to_anchor=(1.02, 1), frameon=False, fontsize=8,
                        title_fontsize=8)


def fid_vs_images(results: Results, pids: dict[str, str]) -> list[Figure]:
    """FID against images seen, one line per run, one figure per protocol: the in-training
    evaluations and, where its protocol is the same, the run's final evaluation."""
    cols = ["run_id", "images_seen", "value", "protocol"]
    evals = results.evals[results.evals["metric"] == "fid"][cols]
    m = results.metrics
    finals = m[(m["which"] == "final") & (m["metric"] == "fid")][cols]
    points = pd.concat([evals, finals]).dropna(subset=["value", "images_seen"])
    points = points.drop_duplicates(["run_id", "images_seen", "protocol"])
    figs = []
    for key, df in points.groupby("protocol", sort=False):
        if df.groupby("run_id").size().max() < 2:
            continue  # final values only: the results table shows them
        fig, ax = plt.subplots(figsize=(7, 4))
        df = _with_variant(df, results).sort_values("images_seen")
        sns.lineplot(data=df, x="images_seen", y="value", hue="variant", units="run_id",
                     estimator=None, marker="o", ax=ax, palette=palette(results))
        ax.set(xlabel="images seen", ylabel=f"FID ({pids.get(key, key)})", yscale="log")
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        _legend_outside(ax)
        figs.append(Figure(f"FID vs images seen · {pids.get(key, key)}", png_uri(fig),
                           "One line per run (seeds share a colour); the last point of a "
                           "finished run is its final evaluation."))
    return figs


def device_hours(runs: pd.DataFrame) -> tuple[pd.Series, str]:
    """Wall time × world size in hours (one device per process), labelled GPU-hours only when
    every run ran on GPUs; a run is on CPU when its ``provenance.json`` device name contains
    "cpu"."""
    device = runs.get("prov.device", pd.Series("cpu", index=runs.index)).fillna("cpu")
    on_gpu = ~device.astype(str).str.contains("cpu", case=False)
    label = "GPU-hours" if bool(on_gpu.all()) else "device-hours"
    return runs["wall_time_s"].astype(float) * runs["world_size"].astype(float) / 3600.0, label


def _scale(values: pd.Series) -> str:
    """Log axis when the runs span more than a decade; linear otherwise (a log axis inside one
    decade has only minor ticks, whose labels overprint each other)."""
    v = values[values > 0]
    return "log" if len(v) and v.max() > 10 * v.min() else "linear"


def cost_to_fid(results: Results, pids: dict[str, str]) -> list[Figure]:
    """Final FID against training MACs and against device-hours (finished runs)."""
    runs = results.runs
    if runs.empty or "final/fid" not in runs:
        return []
    done = runs[(runs["status"] == "finished") & runs["final/fid"].notna()].copy()
    figs = []
    for key, df in done.groupby("final/fid/protocol", sort=False):
        df = df.copy()
        df["hours"], hours_label = device_hours(df)
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
        colours = palette(results)
        sns.scatterplot(data=df, x="train_macs_total", y="final/fid", hue="variant", ax=axes[0],
                        s=60, palette=colours, legend=False)
        sns.scatterplot(data=df, x="hours", y="final/fid", hue="variant", ax=axes[1], s=60,
                        palette=colours)
        _legend_outside(axes[1])
        axes[0].set(xlabel="training MACs", ylabel=f"final FID ({pids.get(key, key)})",
                    xscale=_scale(df["train_macs_total"]))
        axes[0].xaxis.set_major_formatter(EngFormatter(sep=""))  # 400G, 1.2T
        axes[1].set(xlabel=hours_label, xscale=_scale(df["hours"]))
        figs.append(Figure(f"Cost to FID · {pids.get(key, key)}", png_uri(fig),
                           f"Each point is a finished run; {hours_label} = wall time × world "
                           "size (processes, one device each)."))
    return figs


def _spike_point(details: str, net: str) -> tuple[bool, float | None]:
    """(is this spike on ``net``, its norm when it is the global norm). The trainer's spike
    events name the traced statistic, e.g. ``grad_norm/D`` or ``grad_norm/G/<block>``."""
    d = json.loads(details) if details else {}
    name = str(d.get("name", ""))
    if not name.startswith(f"grad_norm/{net}"):
        return False, None
    return True, d.get("value") if name == f"grad_norm/{net}" else None


def grad_norms(results: Results) -> list[Figure]:
    """Global gradient norms of G and D per run on a shared images-seen axis; spikes marked,
    divergences annotated."""
    nets = [n for n in ("G", "D") if f"grad_norm/{n}" in results.train]
    if not nets:
        return []
    train = _with_variant(results.train, results)
    fig, axes = plt.subplots(len(nets), 1, figsize=(9, 3.2 * len(nets)), sharex=True,
                             squeeze=False)
    events = _with_variant(results.events, results)
    for ax, net in zip(axes[:, 0], nets):
        col = f"grad_norm/{net}"
        sns.lineplot(data=train.dropna(subset=[col]), x="images_seen", y=col, hue="variant",
                     units="run_id", estimator=None, ax=ax, linewidth=1,
                     palette=palette(results), legend=ax is axes[0, 0])
        ax.set(yscale="log", ylabel=f"‖∇{net}‖₂")
        _legend_outside(ax)
        for _, ev in events[events["event"] == "spike"].iterrows():
            on_net, y = _spike_point(ev["details"], net)
            trace = train[(train["run_id"] == ev["run_id"])].dropna(subset=[col])
            if not on_net or (y is None and trace.empty):
                continue
            if y is None:  # a per-block spike: mark it on the global trace
                y = trace.iloc[(trace["images_seen"] - ev["images_seen"]).abs().argmin()][col]
            ax.scatter([ev["images_seen"]], [y], marker="x", zorder=5,
                       color=palette(results).get(str(ev["variant"]), "black"))
        for _, ev in events[events["event"] == "diverged"].iterrows():
            ax.axvline(ev["images_seen"], color="red", linestyle="--", linewidth=1)
            if ax is axes[0, 0]:
                ax.annotate(f"diverged: {ev['variant']} (seed {ev['seed']})",
                            (ev["images_seen"], 1.02), xycoords=("data", "axes fraction"),
                            color="red", fontsize=8, ha="center", va="bottom")
    axes[-1, 0].set_xlabel("images seen")
    axes[-1, 0].xaxis.set_major_formatter(EngFormatter(sep=""))
    return [Figure("Gradient norms of G and D", png_uri(fig),
                   "× = gradient spike event, in its run's colour; red dashed line = divergence.")]


def _thumb_uri(path: Path) -> str:
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.NEAREST)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def sample_files(run_dir: Path, kind: str, ext: str = "png") -> list[tuple[int, Path]]:
    """``samples/<kind>_<images_seen:012d>.<ext>`` of a run, sorted by images seen."""
    found = []
    for p in (run_dir / "samples").glob(f"{kind}_*.{ext}"):
        m = SAMPLE_NAME.match(p.name)
        if m:
            found.append((int(m.group(2)), p))
    return sorted(found)


def _image_figure(title: str, caption: str, path: Path) -> Figure:
    try:
        return Figure(title, _thumb_uri(path), caption)
    except (OSError, UnidentifiedImageError) as e:
        return Figure(title, "", f"{path.name}: unreadable image ({e.__class__.__name__})")


def one_run_per_variant(results: Results) -> pd.DataFrame:
    """The run with the lowest seed of every (suite, variant): the figures that show one
    run per variant (sample grids, attention maps)."""
    runs = results.runs.assign(_seed=results.runs["seed"].fillna(-1))
    return runs.sort_values(["suite", "variant", "_seed"]).drop_duplicates(["suite", "variant"])


@dataclass
class SampleRow:
    """Sample grids shown side by side: one per variant (and the real images)."""

    title: str
    figures: list[Figure]


def sample_grids(results: Results) -> list[SampleRow]:
    """Per suite: every variant's grid at the largest images seen that all of them reached,
    beside a grid of real training images; then each run's last grid, when that is later."""
    rows = []
    for suite, runs in one_run_per_variant(results).groupby("suite", sort=True):
        grids = {r["run_id"]: dict(sample_files(Path(r["path"]), "grid"))
                 for _, r in runs.iterrows()}
        grids = {k: v for k, v in grids.items() if v}
        if not grids:
            continue
        variant = dict(zip(runs["run_id"], runs["variant"].astype(str)))
        real = [Path(p) / "samples" / "real.png" for p in runs["path"]]
        real_fig = [_image_figure("real images", "training data", p) for p in real if p.is_file()][:1]
        common = set.intersection(*(set(g) for g in grids.values()))
        if common:
            n = max(common)
            rows.append(SampleRow(f"{suite}: every variant at {n:,} images seen",
                                  [_image_figure(variant[k], f"{n:,} images", g[n])
                                   for k, g in grids.items()] + real_fig))
        last = {k: max(g) for k, g in grids.items()}
        if not common or any(v != max(common) for v in last.values()):
            rows.append(SampleRow(f"{suite}: the last grid of every run",
                                  [_image_figure(variant[k], f"{last[k]:,} images",
                                                 grids[k][last[k]]) for k in grids]
                                  + ([] if common else real_fig)))
    return rows


def _snapshots(files: list[tuple[int, Path]], n: int) -> list[tuple[int, Path]]:
    """Up to ``n`` entries spread evenly over ``files``, the first and the last included."""
    if len(files) <= n:
        return files
    idx = np.unique(np.linspace(0, len(files) - 1, n).round().astype(int))
    return [files[i] for i in idx]


def _attention_figure(title: str, snaps: list[tuple[int, dict]]) -> Figure:
    """Rows = snapshots of the first fixed-z sample, columns = the image, then every head of
    every stage, each map divided by its mean (1 = uniform attention) on a log colour scale."""
    stages = sorted(k for k in snaps[0][1] if k.startswith("stage"))
    heads = [(k, h) for k in stages for h in range(snaps[0][1][k].shape[1])]
    fig, axes = plt.subplots(len(snaps), 1 + len(heads), squeeze=False,
                             figsize=(1.3 * (1 + len(heads)) + 1.2, 1.35 * len(snaps) + 0.5))
    norm = LogNorm(1 / ATTN_RANGE, ATTN_RANGE)
    image = None
    for i, (row, (seen, data)) in enumerate(zip(axes, snaps)):
        row[0].imshow(data["images"][0], interpolation="nearest")
        row[0].set_ylabel(f"{seen:,}\nimages", fontsize=8)
        for ax, (key, h) in zip(row[1:], heads):
            amap = data[key][0, h].astype(np.float64)  # (N,)
            side = math.isqrt(amap.size)
            rel = amap / amap.mean() if amap.mean() > 0 else np.ones_like(amap)
            image = ax.imshow(np.clip(rel, norm.vmin, norm.vmax).reshape(side, side),
                              cmap="RdBu_r", norm=norm, interpolation="nearest")
            if i == 0:
                ax.set_title(f"{side}×{side} · head {h + 1}", fontsize=8)
    axes[0, 0].set_title("sample", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=axes, fraction=0.02, pad=0.01)
    bar.set_label("attention ÷ uniform", fontsize=8)
    return Figure(title, png_uri(fig), "Columns: token stage (grid side) and head; rows: images "
                  "seen. White = uniform attention, red = more, blue = less (clipped at "
                  f"×{ATTN_RANGE:g} and ÷{ATTN_RANGE:g}).")


def attention_maps(results: Results) -> list[Figure]:
    """One labelled figure per variant (lowest seed): its attention maps over training."""
    figs = []
    for _, run in one_run_per_variant(results).iterrows():
        files = _snapshots(sample_files(Path(run["path"]), "attn", "npz"), ATTN_SNAPSHOTS)
        snaps = []
        for seen, path in files:
            try:
                with np.load(path, allow_pickle=False) as npz:
                    snaps.append((seen, {k: npz[k] for k in npz.files}))
            except (OSError, ValueError):
                continue  # a torn file of a running run: skip that snapshot
        if snaps:
            figs.append(_attention_figure(f"{run['suite']} · {run['variant']}", snaps))
    return figs
