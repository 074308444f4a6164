"""baselines/published/*.yaml against docs/paper.md §11, and the paper-vs-ours comparison."""
import pytest
import yaml

from ladabench.core.errors import ConfigError
from ladabench.report.published import compare, load_published
from ladabench.report.render import DEFAULT_PUBLISHED


@pytest.fixture(scope="module")
def tables():
    return {t.table: t for _, t in load_published(DEFAULT_PUBLISHED)}


def _value(tables, table, model, key):
    m = next(m for m in tables[table].models if m.model == model)
    return m.values[key].value


@pytest.mark.parametrize("table, model, key, value", [  # docs/paper.md §11.1, §11.2
    ("CIFAR-10 32×32", "LadaGAN", "fid", 3.29), ("CIFAR-10 32×32", "ADM-IP (80 steps)", "fid", 2.93),
    ("CIFAR-10 32×32", "StyleGAN2", "fid", 5.79), ("CIFAR-10 32×32", "ViTGAN", "fid", 4.57),
    ("CIFAR-10 32×32", "LadaGAN", "params", 19e6), ("CIFAR-10 32×32", "LadaGAN", "macs", 0.7e9),
    ("CIFAR-10 32×32", "LadaGAN", "images", 68e6), ("CelebA 64×64", "LadaGAN", "fid", 1.81),
    ("CelebA 64×64", "LadaGAN (19k samples)", "fid", 2.89), ("CelebA 64×64", "ViTGAN", "fid", 3.74),
    ("CelebA 64×64", "ADM-IP (80 steps)", "macs", 103.5e9), ("FFHQ 128×128", "LadaGAN", "fid", 4.48),
    ("FFHQ 128×128", "LadaGAN", "macs", 4.3e9), ("FFHQ 128×128", "LadaGAN", "images", 53e6),
    ("FFHQ 128×128", "ADM-IP (80 steps)", "fid", 6.89),
    ("LSUN Bedroom 128×128", "LadaGAN", "fid", 5.08),
    ("LSUN Bedroom 128×128", "LadaGAN (PwC)", "fid", 4.90),
    ("LSUN Bedroom 256×256", "LadaGAN", "fid", 6.36),
])
def test_published_values_match_the_reference(tables, table, model, key, value):
    assert _value(tables, table, model, key) == pytest.approx(value)


def test_every_published_table_names_its_source_and_protocol(tables):
    assert len(tables) == 5
    for t in tables.values():
        assert t.source and t.protocol["metric"] == "fid"
        assert t.protocol["extractor"] == "inception-v3-compat" and t.protocol["standard"]
        assert set(t.assumed) <= set(t.protocol)


def test_cifar10_comparison_on_fixture_results(tables, fixture_results):
    rows = compare(tables["CIFAR-10 32×32"], fixture_results).rows
    by = {(c.model, c.row): c for c in rows}
    fid = by[("LadaGAN", "FID")]
    assert (fid.state, fid.ours, fid.delta) == ("compared", "3.30 ± 0.20 (n = 3; best.pt)", "+0.01")
    # #Images of the same checkpoint as the FID (best.pt at 768k), not of the last step
    images = by[("LadaGAN", "#Images")]
    assert (images.ours, images.state) == ("0.768M", "compared")
    params = by[("LadaGAN", "#Params")]
    assert (params.ours, params.delta) == ("19.9M", "+0.902M")  # 19,901,647 vs "19M"
    assert by[("LadaGAN", "GPUs")].ours == "CPU Test (2 threads)"
    assert by[("ADM-IP (80 steps)", "FID")].state == "not run"
    assert by[("LadaGAN", "FID")].notes == [1, 2]  # source and history note as footnotes


def test_a_different_protocol_is_marked_not_compared(tmp_path, fixture_results):
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({
        "table": "CIFAR-10 quick", "source": "test",
        "protocol": {"metric": "fid", "extractor": "inception-v3-compat", "n_gen": 10000},
        "models": [{"model": "LadaGAN", "match": {"model.g_attention": "lada",
                                                  "data.name": "cifar10"},
                    "values": {"fid": {"value": 3.0}}}]}))
    ((_, table),) = load_published(tmp_path)
    (c,) = compare(table, fixture_results).rows
    assert c.state == "protocol differs" and c.delta == ""
    assert c.ours == "3.30 (n_gen: 50000 ≠ 10000)"


def test_bad_published_file_names_file_and_key(tmp_path):
    (tmp_path / "bad.yaml").write_text("table: x\nsource: y\nprotocol: {}\nmodels:\n"
                                       "  - model: m\n    valuez: {}\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: models\.0\.valuez: unknown key"):
        load_published(tmp_path)
