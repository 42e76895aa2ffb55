"""The census reports: the HTML heat map in a real headless Chromium, and untrusted names escaped."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from browser import render
from mapdoctor.cli.main import main
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import SWISS_GO, find_go
from mapdoctor.model.census import Census, MapGroup, MapState, Sample
from mapdoctor.reports.census_html import render_html
from mapdoctor.reports.census_terminal import render_census, sparkline

EVIL_PATH = 'main.x.(<script>alert(1)</script>)\x1b]0;owned\x07'
EVIL_TYPE = 'map[string]"><img src=x onerror=alert(2)>'


def _evil_census() -> Census:
    m = MapState(path=EVIL_PATH, type=EVIL_TYPE, impl="classic", address=0x1000, len=5, capacity=8, bytes=320,
                 growing=True, fresh_bytes=320)
    g = MapGroup(path=EVIL_PATH, type=EVIL_TYPE, impl="classic", count=1, len=5, capacity=8, bytes=320,
                 growing=1, largest=[m], len_quantiles=(5, 5, 5, 5))
    samples = [Sample(t=float(i), per_path={EVIL_PATH: (i + 1, 8, i % 2)}) for i in range(4)]
    return Census(source="pid", pid=1, core="", binary="b", go_version="go1.23.9", impl="classic", dwarf_version=4,
                  maps=[m], groups=[g], roots=1, objects=1, elapsed_s=0.1, bytes_read=100, samples=samples,
                  notes=["note <b>x</b>"])


def test_html_escapes_paths_and_types() -> None:
    page = render_html(_evil_census())
    assert "<script>" not in page and "<img" not in page and "\x1b" not in page.replace("\\x1b", "")
    assert "&lt;script&gt;" in page
    assert "default-src 'none'" in page and "<script" not in page.lower()


def test_terminal_escapes_control_characters() -> None:
    buf = io.StringIO()
    render_census(_evil_census(), Console(file=buf, width=300, no_color=True))
    text = buf.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07" in text


def test_sparkline_scales() -> None:
    assert sparkline([0, 0]) == "▁▁"
    assert sparkline([1, 2, 3, 8]) == "▁▂▃█"


@pytest.mark.go
def test_heat_map_renders_in_chromium_without_network(tmp_path: Path) -> None:
    binary = build_lab(find_go(SWISS_GO))
    page = tmp_path / "census.html"
    with LabService(binary, "census", start_timeout=60) as svc:
        assert main(["census", str(svc.pid), "--package", "main.", "--watch", "300ms", "--for", "2s",
                     "--html", str(page), "--json", str(tmp_path / "c.json"), "--quiet"]) == 0
    shown = render(page, tmp_path / "chromium", width=1200, height=900)
    assert shown.network_urls == [], shown.network_urls
    cells = re.findall(r'<rect class="?cell', shown.dom)
    rows = len(re.findall(r"<text x=\"4\"", shown.dom))
    samples = len(re.findall(r"\+\d+\.\ds:", page.read_text())) // max(1, rows)
    assert rows >= 10 and len(cells) == rows * samples and samples >= 5
    assert "main.censusCache" in shown.dom
    # The heat map's blues are on screen (not a blank or error page).
    blues = [p for p in shown.pixels if p[2] > p[0] + 60 and p[2] > 120]
    assert len(blues) > 50, len(blues)


def test_browser_helper_sees_a_page_request(tmp_path: Path) -> None:
    """The no-network check above is not vacuous: a page that loads an image is caught."""
    page = tmp_path / "leaky.html"
    page.write_text('<!doctype html><html><body><p>x</p><img src="http://example.invalid/pixel.png"></body></html>')
    shown = render(page, tmp_path / "chromium", width=400, height=300)
    assert shown.network_urls == ["http://example.invalid/pixel.png"], shown.network_urls
