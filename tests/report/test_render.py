"""ladabench report end to end on fixture results: numbers, escaping, exports, robustness."""
import re

import pytest
import yaml

from ladabench.cli import main
from ladabench.report.exports import csv_safe, markdown_safe
from report.fixture_results import SCRIPT_NAME


@pytest.fixture(scope="module")
def rendered(results_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "bench.html"
    code = main(["report", str(results_root / "bench"), str(results_root / "digits"),
                 str(results_root / "scaling"), "-o", str(out)])
    assert code == 0
    return out, out.read_text(encoding="utf-8")


def test_prints_the_report_path(results_root, tmp_path, capsys):
    out = tmp_path / "x.html"
    assert main(["report", str(results_root / "digits"), "-o", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    assert out.exists()


def test_user_strings_are_escaped(rendered):
    _, html = rendered
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html  # the run name, as text
    assert SCRIPT_NAME not in html
    assert len(re.findall(r"<script\b", html)) == 1  # only the report's own image check


def test_tables_show_fixture_numbers_states_and_problems(rendered):
    _, html = rendered
    assert "3.30 ± 0.20" in html and "4.20 ± 0.28" in html and "22.00 ± 1.41" in html
    assert "CI ± 0.50" in html  # 4.303 · 0.2 / √3 for the three finished lada seeds
    assert "4 runs: 3 finished, 1 running" in html
    assert 'status-diverged">diverged' in html and 'status-corrupt">corrupt' in html
    assert "summary.json: invalid JSON" in html
    assert "+0.01" in html  # CIFAR-10 LadaGAN 3.30 vs published 3.29
    # the protocol legend names each column's protocol, its stamp readable (not JSON)
    assert ("<td>P1</td><td>fid · inception-v3-compat · 50000 gen vs 50000 train · cifar10 32 px"
            in html)
    assert "<dt>weights_sha256</dt><dd>6726825d</dd>" in html and '{"dataset"' not in html


def test_sections_start_with_what_was_run(rendered):
    """Overview, the suites' results (tables, FID curves, samples), then costs and training
    dynamics, then the paper tables, then protocols and provenance."""
    _, html = rendered
    order = ['id="overview"', "<h3>Suite bench</h3>", "<h3>FID vs images seen</h3>",
             "<h3>Samples</h3>", 'id="costs"', "<h3>Cost to FID</h3>", "<h3>Gradient norms</h3>",
             "<h3>Attention scaling</h3>", "<h3>Attention maps over training</h3>", 'id="paper"',
             "<h3>CIFAR-10 32×32</h3>", 'id="protocols"', "<h3>Provenance</h3>"]
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_paper_tables_only_for_data_sets_in_the_results(rendered, results_root, tmp_path):
    _, html = rendered  # bench runs CIFAR-10; digits has no published table
    assert "<h3>CIFAR-10 32×32</h3>" in html
    for other in ("CelebA 64×64", "FFHQ 128×128", "LSUN Bedroom 128×128", "LSUN Bedroom 256×256"):
        assert f"<h3>{other}</h3>" not in html
    assert ("Published tables without a run on their data set here (not shown): CelebA 64×64, "
            "FFHQ 128×128, LSUN Bedroom 128×128, LSUN Bedroom 256×256.") in html
    from ladabench.report.render import render_report

    digits = render_report([results_root / "digits"], tmp_path / "d.html").read_text()
    assert "<h3>CIFAR-10 32×32</h3>" not in digits and "no matching run" not in digits
    assert "(not shown): CIFAR-10 32×32, CelebA 64×64" in digits


def test_numbers_read_as_people_read_them(rendered):
    _, html = rendered
    assert re.search(r"<th>KID ×10³ · P\d</th>", html)  # the standard protocol's KID, as published
    assert "2.30 ± 0.20" in html
    assert '<td class="num" title="seeds 0, 1, 2, 3">4</td>' in html  # seeds as a count
    assert "1.02M" in html and "1,024,000" in html  # images seen with a unit, never 0.00
    assert "2.0 h" in html  # wall time 7,200 s
    assert "train img/s (steady)" in html


def test_no_machine_paths_in_the_html(rendered, results_root):
    out, html = rendered
    for path in (results_root, out.parent, results_root.parent):
        assert str(path) not in html
    assert "/baselines/published" not in html and "published/cifar10_32.yaml" in html


def test_self_contained(rendered):
    out, html = rendered
    srcs = re.findall(r'src="([^"]*)"', html)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert not re.search(r"(href|src)=\"https?:", html)
    assert "Attention scaling" in html and "1,024" in html  # crossover from the CSV


def test_exports_beside_the_html(rendered):
    out, _ = rendered
    files = out.with_name("bench_files")
    csv = (files / "runs.csv").read_text()
    assert len(csv.strip().splitlines()) == 1 + 10 and "linformer-seed1-" in csv
    assert "<script>alert(" in csv  # the hostile run name is kept as text in the CSV
    md = (files / "results.md").read_text()
    assert "| 3.30 ± 0.20 [2.80, 3.80] * |" in md.replace("  ", " ")
    tex = (files / "results.tex").read_text()
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in tex
    assert "3.30 ± 0.20 [2.80, 3.80] *" in tex and r"g\_attention=lada" in tex


@pytest.mark.parametrize("cell, csv, markdown", [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")', None),
    ("-2+3", "'-2+3", None),
    ("@SUM(A1)", "'@SUM(A1)", None),
    ('<script>alert("x")</script>', None, '&lt;script&gt;alert("x")&lt;/script&gt;'),
    ("a|b", None, r"a\|b"),
    (3.5, 3.5, 3.5),
])
def test_export_cells_are_data_not_code(cell, csv, markdown):
    assert csv_safe(cell) == (cell if csv is None else csv)
    assert markdown_safe(cell) == (cell if markdown is None else markdown)


def test_suite_file_maps_to_its_results_folder(results_root, tmp_path, monkeypatch):
    suite = tmp_path / "bench.yaml"
    suite.write_text(yaml.safe_dump({"name": "bench", "results_root": str(results_root)}))
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(suite)]) == 0
    assert (tmp_path / "reports" / "bench.html").exists()


def test_empty_folder_is_a_one_line_error(tmp_path, capsys):
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"ladabench report: error: {tmp_path}: no run directories found (expected "
                   "folders with config.yaml / summary.json / metrics.jsonl)")


def test_unreadable_sample_image_is_reported_not_embedded(results_root, tmp_path):
    from ladabench.report.render import render_report

    grid = next((results_root / "bench").glob("lada-seed0-*")) / "samples"
    bad = grid / "grid_999999999999.png"
    bad.write_bytes(b"not a png")
    try:
        html = render_report([results_root / "bench"], tmp_path / "r.html").read_text()
    finally:
        bad.unlink()
    assert "grid_999999999999.png: unreadable image" in html


def test_runs_show_the_scored_checkpoint_and_the_last_ema_fid(rendered):
    _, html = rendered
    assert "final FID · scored checkpoint" in html and "FID of the last EMA generator" in html
    assert "3.10 (P1) · best.pt at 768k" in html and "3.50 (P1) · last EMA at 1.02M" in html
    assert "21.00 (P3) · last.pt at 1.02M" in html  # a summary without a recorded checkpoint
