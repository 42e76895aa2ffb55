"""The HTML report in a real headless Chromium (Debian's ``chromium``, installed on first need).

For map growth, sync.Map churn and an HTTP service with slow requests, at 400 px and 1400 px:
no console errors or policy violations, no network request but the page itself, nothing wider
than the window, the flame graph and the timeline drawn; clicking a frame zooms, searching
finds, clicking a lane shows its figures; without JavaScript the static summary is all there;
hostile function names stay text. Screenshots are kept in ``$MAPDOCTOR_ARTIFACTS/html`` (else
the test's temporary folder), with ``layout.json`` saying where each part of the page landed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import browser
from labdata import LAB_GO, scenario_dir
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.formats.detect import load_inputs
from mapdoctor.reports.html import write_html
from test_html_report import EVIL_FN, hostile_capture

SCENARIOS = {"mapgrow": "mapgrow-str", "syncmap": "syncmap", "http-slow": "http-mapgrow"}
WIDTHS = (400, 1400)
HEIGHT = 1000

#: Where each part of the page is, for the screenshot notes: top and height in CSS pixels.
_LAYOUT_JS = """(() => {
  const box = (sel) => { const e = document.querySelector(sel); if (!e) return null;
    const r = e.getBoundingClientRect(); return [Math.round(r.top), Math.round(r.height), Math.round(r.width)]; };
  return {badge: box('.badge'), badge_text: document.querySelector('.badge').textContent,
          badge_color: getComputedStyle(document.querySelector('.badge')).backgroundColor,
          headline: box('.headline'), facts: box('.facts'), causes: box('#causes'), first_site: box('#causes table'),
          advice: box('.advice'), timeline: box('#timeline'), first_lane: box('svg[data-lane]'),
          flame: box('#flame'), flame_svg: box('#flame svg'),
          scroll_width: document.documentElement.scrollWidth, inner_width: window.innerWidth};
})()"""


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = os.environ.get("MAPDOCTOR_ARTIFACTS")
    out = Path(root) / "html" if root else tmp_path_factory.mktemp("html-artifacts")
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("html-pages")
    out: dict[str, Path] = {}
    # Input paths are printed in the page: copies under a long folder name make the layout
    # independent of where the repository happens to be checked out.
    deep = root / "inputs_from_a_checkout_folder_with_a_long_name"
    for name, scenario in SCENARIOS.items():
        copy = shutil.copytree(scenario_dir("go1.27", scenario), deep / scenario)
        d = diagnose(load_inputs([copy]), source_dir=LAB_GO)
        write_html(d, str(root / f"{name}.html"))
        out[name] = root / f"{name}.html"
    cpu_only = diagnose(load_inputs([scenario_dir("go1.27", "syncmap") / "cpu.pb.gz"]))
    write_html(cpu_only, str(root / "cpu-only.html"))
    out["cpu-only"] = root / "cpu-only.html"
    evil = diagnose(load_inputs([hostile_capture(root / "evil")]))
    write_html(evil, str(root / "evil.html"))
    out["evil"] = root / "evil.html"
    return out


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[browser.Session]:
    with browser.session(tmp_path_factory.mktemp("chromium") / "profile") as s:
        yield s


def _load(b: browser.Session, page: Path, width: int, *, javascript: bool = True) -> None:
    b.console.clear()
    b.requests.clear()
    b.viewport(width, HEIGHT)
    b.open(page.resolve().as_uri(), javascript=javascript)
    if javascript:
        b.wait_for("document.querySelectorAll('#flame svg g').length > 0")


def _center(b: browser.Session, selector: str) -> tuple[float, float]:
    got = b.eval(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
        e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();
        return [r.left + r.width / 2, r.top + r.height / 2]; }})()""")
    assert isinstance(got, list), selector
    return float(got[0]), float(got[1])


def test_pages_render_cleanly_at_both_widths(chromium: browser.Session, pages: dict[str, Path],
                                            artifacts: Path) -> None:
    layout: dict[str, object] = {}
    for name in SCENARIOS:
        for width in WIDTHS:
            _load(chromium, pages[name], width)
            assert chromium.console == [], (name, width, chromium.console)
            assert set(chromium.requests) == {pages[name].resolve().as_uri()}, chromium.requests
            got = chromium.eval(_LAYOUT_JS)
            assert isinstance(got, dict)
            assert got["scroll_width"] <= width, (name, width, got)  # nothing wider than the window
            assert got["timeline"] and got["flame_svg"] and got["flame_svg"][1] > 50, got
            assert got["badge"][0] < 60  # the verdict is the first thing on the page
            shot = chromium.screenshot(artifacts / f"{name}-{width}.png")
            assert browser.png_size(shot) == (width, HEIGHT)
            layout[f"{name}-{width}"] = got
    (artifacts / "layout.json").write_text(json.dumps(layout, indent=1))


def test_flame_graph_zooms_and_searches(chromium: browser.Session, pages: dict[str, Path]) -> None:
    _load(chromium, pages["mapgrow"], 1400)
    total = chromium.eval("document.querySelectorAll('#flame svg g').length")
    # Click the growth site's frame: it becomes the full width, its callers stay as context.
    idx = chromium.eval("""(() => { const gs = [...document.querySelectorAll('#flame g[data-i]')];
        const g = gs.find(g => (g.textContent || '').startsWith('main.indexOrders'));
        return g ? g.getAttribute('data-i') : null; })()""")
    assert idx is not None
    x, y = _center(chromium, f"#flame g[data-i='{idx}'] rect")
    # Hovering names the frame, its file, its CPU and its category.
    chromium.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
    chromium.wait_for("document.getElementById('tip').classList.contains('on')")
    tip = chromium.eval("document.getElementById('tip').textContent")
    assert isinstance(tip, str) and tip.startswith("main.indexOrders\nmapdoctorlab/orders.go\n"), tip
    assert "of CPU" in tip and "category: map" in tip, tip
    chromium.click(x, y)
    chromium.wait_for(f"document.getElementById('flame').getAttribute('data-focus') === '{idx}'")
    widths = chromium.eval(f"""[document.querySelector("#flame g[data-i='{idx}'] rect").getBBox().width,
        document.getElementById('flame').clientWidth]""")
    assert isinstance(widths, list) and widths[0] >= widths[1] - 2, widths
    info = chromium.eval("document.getElementById('flame-info').textContent")
    assert isinstance(info, str) and info.startswith("Zoomed into main.indexOrders"), info
    zoomed = chromium.eval("document.querySelectorAll('#flame svg g').length")
    assert isinstance(zoomed, int) and isinstance(total, int) and zoomed < total
    # Search: typing marks the matching frames and says how much CPU they hold.
    x, y = _center(chromium, "#flame-search")
    chromium.click(x, y)
    chromium.type_text("mapassign")
    chromium.wait_for("document.querySelectorAll('#flame g.hit').length > 0")
    info = chromium.eval("document.getElementById('flame-info').textContent")
    assert isinstance(info, str) and "frame" in info and "match" in info and "% of CPU" in info, info
    x, y = _center(chromium, "#flame-reset")
    chromium.click(x, y)
    chromium.wait_for("document.getElementById('flame').getAttribute('data-focus') === '0'")
    assert chromium.eval("document.querySelectorAll('#flame svg g').length") == total
    assert chromium.console == [], chromium.console


@pytest.mark.parametrize(("page", "lane", "words"), [
    ("mapgrow", "cat:map_growth", "map growth: "),
    ("syncmap", "cat:sync_map", "sync.Map: "),
    ("http-slow", "req", "p99"),
    ("http-slow", "pause", "stop-the-world"),
])
def test_timeline_lanes_answer_a_click(chromium: browser.Session, pages: dict[str, Path], page: str, lane: str,
                                       words: str) -> None:
    _load(chromium, pages[page], 400)
    x, y = _center(chromium, f'svg[data-lane="{lane}"]')
    chromium.click(x, y)
    chromium.wait_for("document.getElementById('tip').classList.contains('on')")
    text = chromium.eval("document.getElementById('tip').textContent")
    assert isinstance(text, str) and words in text and " ms" in text, text
    box = chromium.eval("(() => { const r = document.getElementById('tip').getBoundingClientRect(); "
                        "return [r.left, r.right]; })()")
    assert isinstance(box, list) and box[0] >= 0 and box[1] <= 400, box  # the tooltip stays on a narrow screen


def test_static_summary_without_javascript(chromium: browser.Session, pages: dict[str, Path],
                                           artifacts: Path) -> None:
    _load(chromium, pages["http-slow"], 400, javascript=False)
    got = chromium.eval("""(() => ({
        badge: document.querySelector('.badge').textContent,
        lanes: [...document.querySelectorAll('svg[data-lane]')]
            .filter(s => s.getBoundingClientRect().height > 20).length,
        titles: document.querySelectorAll('svg[data-lane] title').length,
        nojs: document.querySelector('.no-js') !== null && document.querySelector('.no-js').offsetHeight > 0,
        flameSvg: document.querySelector('#flame svg') !== null,
        tables: document.querySelectorAll('table').length,
        width: document.documentElement.scrollWidth}))()""")
    assert isinstance(got, dict)
    assert got["badge"] == "MAP GROWTH" and got["lanes"] >= 5 and got["titles"] > 50 and got["nojs"]
    assert not got["flameSvg"] and got["tables"] >= 3 and got["width"] <= 400, got
    chromium.screenshot(artifacts / "http-slow-400-nojs.png")
    assert chromium.console == [], chromium.console


def test_hostile_names_stay_text(chromium: browser.Session, pages: dict[str, Path], artifacts: Path) -> None:
    _load(chromium, pages["evil"], 1400)
    got = chromium.eval("""(() => ({images: document.images.length,
        scripts: document.scripts.length,
        cells: [...document.querySelectorAll('td code')].map(e => e.textContent),
        alerted: window.__alerted === true}))()""")
    assert isinstance(got, dict)
    assert got["images"] == 0 and got["scripts"] == 2, got
    assert EVIL_FN in got["cells"], got["cells"][:20]
    # The flame graph finds it by its literal name and draws it as text.
    x, y = _center(chromium, "#flame-search")
    chromium.click(x, y)
    chromium.type_text("onerror")
    chromium.wait_for("document.querySelectorAll('#flame g.hit').length > 0")
    labels = chromium.eval("[...document.querySelectorAll('#flame g.hit text')].map(t => t.textContent)")
    assert isinstance(labels, list) and any(str(t).startswith("main.<img") for t in labels), labels
    assert not any(ev.get("method") == "Page.javascriptDialogOpening" for ev in chromium.events())
    assert chromium.console == [] and set(chromium.requests) == {pages["evil"].resolve().as_uri()}
    chromium.screenshot(artifacts / "hostile-1400.png")


def test_a_cpu_profile_alone_draws_the_flame_graph_and_no_timeline(chromium: browser.Session,
                                                                  pages: dict[str, Path]) -> None:
    _load(chromium, pages["cpu-only"], 400)
    got = chromium.eval("""[document.querySelectorAll('svg[data-lane]').length,
        document.getElementById('timeline').textContent, document.documentElement.scrollWidth]""")
    assert isinstance(got, list) and got[0] == 0 and "No execution trace" in got[1] and got[2] <= 400, got
    assert chromium.console == [], chromium.console


def test_the_checks_above_are_not_vacuous(chromium: browser.Session, tmp_path: Path) -> None:
    """A policy violation, a console error, an exception and a remote fetch are each caught."""
    page = tmp_path / "bad.html"
    page.write_text("<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" "
                    "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
                    "<script>console.error('boom'); throw new Error('thrown');</script>"
                    "<img src=\"http://example.invalid/pixel.png\"></body></html>")
    chromium.viewport(400, HEIGHT)
    chromium.console.clear()
    chromium.requests.clear()
    chromium.open(page.resolve().as_uri())
    chromium.wait_for("document.readyState === 'complete'")
    text = " | ".join(chromium.console)
    assert "console.error: boom" in text and "thrown" in text, text
    assert "Content Security Policy" in text or "Content-Security-Policy" in text, text
    # The policy blocked the image before any request left; without the policy, it is requested.
    page.write_text('<!doctype html><html><body><img src="http://example.invalid/pixel.png"></body></html>')
    chromium.requests.clear()
    chromium.open(page.resolve().as_uri())
    assert "http://example.invalid/pixel.png" in chromium.requests, chromium.requests
