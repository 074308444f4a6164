"""Figures of the report that carry labels the tests can read: the attention-map figure."""
import numpy as np

from ladabench.report import figures


def test_attention_maps_are_labelled_and_uniform_attention_is_white(fixture_results, monkeypatch):
    drawn = []
    monkeypatch.setattr(figures, "png_uri", lambda fig: drawn.append(fig) or "data:,")
    figs = figures.attention_maps(fixture_results)
    assert [f.title for f in figs] == ["bench · g_attention=lada, d_attention=lada"]  # lowest seed
    (fig,) = drawn
    axes = fig.axes[:-1]  # the last axes is the colour bar
    titles = [ax.get_title() for ax in axes[:7]]
    assert titles == ["sample", "8×8 · head 1", "8×8 · head 2", "16×16 · head 1",
                      "16×16 · head 2", "32×32 · head 1", "32×32 · head 2"]
    assert [ax.get_ylabel() for ax in axes[::7]] == [
        "256,000\nimages", "512,000\nimages", "1,024,000\nimages"]
    uniform = axes[1].images[0]  # head 1 of the fixture is uniform attention
    assert np.allclose(uniform.get_array(), 1.0)
    rgba = uniform.cmap(uniform.norm(1.0))
    assert min(rgba[:3]) > 0.9  # white, not black
    peaked = axes[2].images[0].get_array()
    assert peaked.max() == figures.ATTN_RANGE and peaked.min() < 1  # clipped at ×8, rest below


def test_cost_to_fid_counts_wall_time_times_world_size(fixture_results, monkeypatch):
    """dot_product trained as 2 processes (fixture): the same 2 h of wall time as lada's runs
    are 4 device-hours; summaries without ``world_size`` count one process."""
    drawn = []
    monkeypatch.setattr(figures, "png_uri", lambda fig: drawn.append(fig) or "data:,")
    runs = fixture_results.runs
    done = runs[(runs["status"] == "finished") & (runs["suite"] == "bench")]
    hours, label = figures.device_hours(done)
    by_attention = dict(zip(done["cfg.model.g_attention"], hours))
    assert by_attention == {"lada": 2.0, "dot_product": 4.0} and label == "device-hours"
    figs = figures.cost_to_fid(fixture_results, {})
    (bench,) = [i for i, fig in enumerate(drawn)  # the suite with the 5 finished runs
                if len(fig.axes[1].collections[0].get_offsets()) == len(done)]
    xs = sorted(float(x) for x in drawn[bench].axes[1].collections[0].get_offsets()[:, 0])
    assert xs == [2.0, 2.0, 2.0, 4.0, 4.0]
    assert "wall time × world size" in figs[bench].caption


def test_names_with_dollar_signs_are_drawn_as_written(fixture_results):
    import dataclasses

    import pytest

    from ladabench.report import tables

    runs = fixture_results.runs.copy()
    runs["variant"] = runs["variant"] + r" $\undefinedmacro{$"
    hostile = dataclasses.replace(fixture_results, runs=runs)
    pids = tables.protocol_ids(hostile)
    with pytest.raises(ValueError):  # what the report did before: mathtext aborts it
        figures.fid_vs_images(hostile, pids)
    with figures.plain_text():
        drawn = [figures.fid_vs_images(hostile, pids), figures.cost_to_fid(hostile, pids),
                 figures.grad_norms(hostile)]
    assert all(figs and all(f.uri.startswith("data:image/png") for f in figs) for figs in drawn)
