"""Figures of the report (matplotlib Agg + seaborn), each returned as a PNG data URI so the HTML
is self-contained. Every function takes :class:`ladabench.results.Results` and returns a list of
:class:`Figure` (empty when the data it needs is absent)."""
from __future__ import annotations

import base64
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot/seaborn: no display on clusters
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import EngFormatter  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from PIL import Image, UnidentifiedImageError  # noqa: E402

from ladabench.results import Results  # noqa: E402

SAMPLE_NAME = re.compile(r"^(grid|attn)_(\d{12})\.png$")
#: longest side of an embedded sample image (keeps the report small)
THUMB_PX = 384
#: attention-map snapshots shown per run (evenly spaced over training)
ATTN_SNAPSHOTS = 6


@dataclass
class Figure:
    title: str
    uri: str
    caption: str = ""


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
    """FID against images seen, one line per run, one figure per protocol."""
    evals = results.evals[results.evals["metric"] == "fid"].dropna(subset=["value"])
    figs = []
    for key, df in evals.groupby("protocol", sort=False):
        fig, ax = plt.subplots(figsize=(7, 4))
        sns.lineplot(data=_with_variant(df, results), x="images_seen", y="value", hue="variant",
                     units="run_id", estimator=None, marker="o", ax=ax,
                     palette=palette(results))
        ax.set(xlabel="images seen", ylabel=f"FID ({pids.get(key, key)})", yscale="log")
        _legend_outside(ax)
        figs.append(Figure(f"FID vs images seen · {pids.get(key, key)}", png_uri(fig),
                           "One line per run (seeds share a colour)."))
    return figs


def device_hours(runs: pd.DataFrame) -> tuple[pd.Series, str]:
    """Wall time × devices in hours, labelled GPU-hours only when every run ran on a GPU.

    One device per run (ladabench trains on one device); a run is on CPU when its
    ``provenance.json`` device name contains "cpu".
    """
    device = runs.get("prov.device", pd.Series("cpu", index=runs.index)).fillna("cpu")
    on_gpu = ~device.astype(str).str.contains("cpu", case=False)
    label = "GPU-hours" if bool(on_gpu.all()) else "device-hours"
    return runs["wall_time_s"].astype(float) / 3600.0, label


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
                           f"Each point is a finished run; {hours_label} = wall time × 1 device."))
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
            ax.scatter([ev["images_seen"]], [y], marker="x", color="black", zorder=5)
        for _, ev in events[events["event"] == "diverged"].iterrows():
            ax.axvline(ev["images_seen"], color="red", linestyle="--", linewidth=1)
            if ax is axes[0, 0]:
                ax.annotate(f"diverged: {ev['variant']} (seed {ev['seed']})",
                            (ev["images_seen"], 1.02), xycoords=("data", "axes fraction"),
                            color="red", fontsize=8, ha="center", va="bottom")
    axes[-1, 0].set_xlabel("images seen")
    return [Figure("Gradient norms of G and D", png_uri(fig),
                   "× = gradient spike event; red dashed line = divergence.")]


def _thumb_uri(path: Path) -> str:
    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.NEAREST)
        buf = io.BytesIO()
        im.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def sample_files(run_dir: Path, kind: str) -> list[tuple[int, Path]]:
    """``samples/<kind>_<images_seen:012d>.png`` of a run, sorted by images seen."""
    found = []
    for p in (run_dir / "samples").glob(f"{kind}_*.png"):
        m = SAMPLE_NAME.match(p.name)
        if m:
            found.append((int(m.group(2)), p))
    return sorted(found)


def _image_figure(title: str, caption: str, path: Path) -> Figure:
    try:
        return Figure(title, _thumb_uri(path), caption)
    except (OSError, UnidentifiedImageError) as e:
        return Figure(title, "", f"{path.name}: unreadable image ({e.__class__.__name__})")


def sample_grids(results: Results) -> list[Figure]:
    """The latest fixed-z sample grid of every run."""
    figs = []
    for _, run in results.runs.iterrows():
        files = sample_files(Path(run["path"]), "grid")
        if files:
            images, path = files[-1]
            figs.append(_image_figure(str(run["variant"]),
                                      f"{run['run_id']} · {images:,} images", path))
    return figs


def attention_maps(results: Results) -> list[tuple[str, list[Figure]]]:
    """Per run, up to ``ATTN_SNAPSHOTS`` attention-map images spread over training."""
    rows = []
    for _, run in results.runs.iterrows():
        files = sample_files(Path(run["path"]), "attn")
        if not files:
            continue
        step = max(1, -(-len(files) // ATTN_SNAPSHOTS))
        picked = files[::step][: ATTN_SNAPSHOTS - 1] + [files[-1]]
        picked = list(dict.fromkeys(picked))
        rows.append((f"{run['variant']} · {run['run_id']}",
                     [_image_figure(f"{n:,} images", "", p) for n, p in picked]))
    return rows
