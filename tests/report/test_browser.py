"""The rendered report in headless Chromium (Debian package ``chromium``): no console errors,
no broken images; a full-page screenshot is kept in ``reports/artifacts/``."""
from pathlib import Path

import pytest

from ladabench.report.render import render_report
from report.browser import check_page, chromium

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "reports" / "artifacts"


@pytest.fixture(autouse=True)
def _needs_chromium():
    if chromium() is None:
        pytest.fail("headless Chromium not found: apt-get install -y --no-install-recommends "
                    "chromium (or deselect with -m 'not browser')")


def test_checker_sees_console_errors_and_broken_images(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="data:image/png;base64,AAAA">'
                    '<img src="missing.png"><script>console.error("boom")</script></body></html>')
    check = check_page(page)
    assert check.broken_images == 2
    assert "boom" in check.errors
    assert any("ERR_FILE_NOT_FOUND" in e for e in check.errors)


def test_report_opens_from_disk_without_errors(results_root, tmp_path):
    out = render_report([results_root / "bench", results_root / "digits",
                         results_root / "scaling"], tmp_path / "report.html")
    shot = ARTIFACTS / "report-screenshot.png"
    check = check_page(out, screenshot=shot)
    print(f"screenshot: {shot}")
    assert check.errors == []
    # every figure, sample grid (with the real images) and attention figure decoded
    assert check.images == out.read_text().count("<img ") >= 9 and check.broken_images == 0
    assert check.broken_marker == "0"  # the report's own onload check agrees
    assert check.title == "ladabench report · bench + digits"
    assert shot.stat().st_size > 50_000
