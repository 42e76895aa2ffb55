"""The HTML report: one locked file, coloured by severity, a timeline on a real axis whose lanes
follow the verdict, a flame graph of the CPU profile, source snippets, and nothing from the
inputs reaching it unescaped. (Its behaviour in a real browser: test_html_browser.py.)"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from labdata import FIXTURES, LAB_GO, scenario_dir
from mapdoctor.analysis import plots
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.analysis.severity import level_of
from mapdoctor.formats.detect import InputKind, load_inputs
from mapdoctor.reports.html import render_html
from mapdoctor.reports.html.timeline import nice_ticks

EVIL_FN = 'main.<img src=x onerror=alert(1)>'
EVIL_FILE = '"><script>alert("file")</script>/orders.go'
#: What the report promises about its size (docs/HTML.md).
SIZE_BUDGET = 1_500_000


def _rename(data: bytes, old: str, new: str) -> bytes:
    """Replace one entry of a pprof string table (a top-level field 6 string) in place."""
    o, n = old.encode(), new.encode()
    assert len(o) < 128 and len(n) < 128
    entry = b"\x32" + bytes([len(o)]) + o
    assert data.count(entry) == 1, old
    return data.replace(entry, b"\x32" + bytes([len(n)]) + n)


def hostile_capture(dest: Path, go_dir: str = "go1.27") -> Path:
    """A real capture (map growth) whose growth site's function and file names carry markup."""
    src = scenario_dir(go_dir, "mapgrow-str")
    dest.mkdir(parents=True, exist_ok=True)
    raw = gzip.decompress((src / "cpu.pb.gz").read_bytes())
    raw = _rename(_rename(raw, "main.indexOrders", EVIL_FN), "mapdoctorlab/orders.go", EVIL_FILE)
    (dest / "cpu.pb.gz").write_bytes(gzip.compress(raw))
    shutil.copy(src / "trace.out", dest / "trace.out")
    return dest


def _diagnosis(go_dir: str, scenario: str, source: bool = False) -> Diagnosis:
    return diagnose(load_inputs([scenario_dir(go_dir, scenario)]), source_dir=LAB_GO if source else None)


def _scripts(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)


def _data(page: str) -> dict[str, object]:
    block = next(body for attrs, body in _scripts(page) if 'id="md-data"' in attrs)
    out = json.loads(block)
    assert isinstance(out, dict)
    return out


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_markup_from_profiles_is_escaped(tmp_path: Path) -> None:
    capture = hostile_capture(tmp_path / "evil")
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(capture), "--html", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert 'data-verdict="map_growth"' in page  # the renamed frame is still the growth site ...
    assert "<img" not in page  # ... and printed only as text
    scripts = _scripts(page)
    assert len(scripts) == 2, [a for a, _ in scripts]  # the data block and the report's own script
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;script&gt;alert(&quot;file&quot;)" in page
    data = _data(page)
    flame = data["flame"]
    assert isinstance(flame, dict) and EVIL_FN in flame["names"] and EVIL_FILE in flame["files"]
    # The data block cannot be closed early: no raw "<" at all inside it.
    block = next(body for attrs, body in scripts if 'id="md-data"' in attrs)
    assert "<" not in block and "\\u003cimg" in block


def test_report_is_one_file_locked_by_its_policy() -> None:
    page = render_html(_diagnosis("go1.23", "mapgrow-str"))
    assert page.startswith("<!doctype html>")
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert csp is not None
    policy = dict(p.strip().split(" ", 1) for p in csp.group(1).split(";"))
    assert policy["default-src"] == "'none'" and policy["base-uri"] == "'none'"
    style = re.search(r"<style>(.*?)</style>", page, flags=re.S)
    assert style is not None and policy["style-src"] == _sha(style.group(1))
    code = [body for attrs, body in _scripts(page) if "type=" not in attrs]
    assert len(code) == 1 and policy["script-src"] == _sha(code[0])
    assert "unsafe-inline" not in csp.group(1) and " style=" not in page
    for external in ('src="', "href=\"http", "<link", "@import", "url(", "<iframe", "<object"):
        assert external not in page, external
    assert 'width="900"' not in page  # no fixed-width drawing: the lanes stretch to the page


@pytest.mark.parametrize(("scenario", "words", "level"), [
    ("mapgrow-str", "MAP GROWTH", "red"),
    ("syncmap", "SYNC.MAP CHURN", "red"),
    ("crash", "CONCURRENT MAP WRITES", "red"),
    ("idle", "HEALTHY", "green"),
    ("idle/goroutine.txt", "INCONCLUSIVE", "grey"),  # a goroutine dump alone cannot tell
])
def test_colour_follows_severity_not_the_verdict(scenario: str, words: str, level: str) -> None:
    folder, _, file = scenario.partition("/")
    path = scenario_dir("go1.27", folder) / file if file else scenario_dir("go1.27", folder)
    d = diagnose(load_inputs([path]))
    page = render_html(d)
    assert level_of(d).value == level
    assert f'<span class="badge lv-{level}">{words}</span>' in page
    assert f'data-level="{level}"' in page


def test_lock_contention_is_not_green() -> None:
    d = _diagnosis("go1.27", "http-lock")
    page = render_html(d)
    assert "LOCK CONTENTION" in page and "badge lv-green" not in page and f"badge lv-{level_of(d).value}" in page


@pytest.mark.parametrize(("scenario", "lane", "absent"), [
    ("mapgrow-str", "cat:map_growth", "cat:sync_map"),
    ("syncmap", "cat:sync_map", "cat:map_growth"),
    ("http-lock", "cat:lock_wait", "cat:map_growth"),
])
def test_timeline_lanes_follow_the_verdicts_causes(scenario: str, lane: str, absent: str) -> None:
    page = render_html(_diagnosis("go1.27", scenario))
    assert f'data-lane="{lane}"' in page and f'data-lane="{absent}"' not in page
    for always in ("cpu", "pause", "gc"):
        assert f'data-lane="{always}"' in page


def test_timeline_has_a_time_axis_with_round_ticks() -> None:
    assert nice_ticks(1007.4) == [0, 200, 400, 600, 800, 1000]
    assert nice_ticks(4405.9) == [0, 1000, 2000, 3000, 4000]
    assert nice_ticks(0.7) == [0, 0.2, 0.4, 0.6]
    d = _diagnosis("go1.27", "mapgrow-str")
    page = render_html(d)
    axis = re.search(r"<div class=axis[^>]*>(.*?)</div>", page)
    assert axis is not None
    labels = re.findall(r">([^<]+)</span>", axis.group(1))
    assert labels == ["0 ms", "200 ms", "400 ms", "600 ms", "800 ms", "1000 ms"]
    span = float((d.timeline or {})["span_ms"])
    assert f".axis .tk5{{left:{100 * 1000 / span:.3f}%}}" in page
    # The lanes are drawn in trace milliseconds: the viewBox is the trace's span.
    assert f'viewBox="0 0 {span:.3f} ' in page


def test_request_lane_draws_every_slow_request_highlighted() -> None:
    d = _diagnosis("go1.27", "http-mapgrow")
    req = (d.timeline or {})["requests"]
    page = render_html(d)
    lane = re.search(r'<svg data-lane="req".*?</svg>', page, flags=re.S)
    assert lane is not None
    drawn = re.findall(r"<rect [^>]*>", lane.group(0))
    slow = [r for r in drawn if "class=slow" in r]
    assert len(drawn) == req["count"]
    lanes = (d.plots.get() if d.plots else {})["lanes"]
    assert len(slow) == sum(1 for r in lanes["requests"] if r[1] >= req["p99_ms"]) >= 1
    assert f"p99 {req['p99_ms']:.0f} ms" in page
    # Behind the other lanes, a band where each slow request ran.
    growth = re.search(r'<svg data-lane="cat:map_growth".*?</svg>', page, flags=re.S)
    assert growth is not None and growth.group(0).count("class=band") == len(slow)


def test_flame_graph_is_the_cpu_profile_and_says_when_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    d = _diagnosis("go1.27", "syncmap")
    flame = (d.plots.get() if d.plots else {})["flame"]
    assert not flame["capped"] and "Showing the" not in render_html(d)
    # The root is all the profile's CPU; the categories come from the verdict's frame table.
    prof = next(i.profile for i in load_inputs([scenario_dir("go1.27", "syncmap")]).inputs
                if i.kind is InputKind.CPU and i.profile is not None)
    idx = prof.value_index("cpu")
    assert idx is not None
    assert abs(flame["total_ms"] - sum(s.values[idx] for s in prof.samples) / 1e6) < 0.01
    assert "sync_map" in flame["categories"]
    monkeypatch.setattr(plots, "MAX_FLAME_NODES", 40)
    small = _diagnosis("go1.27", "syncmap")
    sflame = (small.plots.get() if small.plots else {})["flame"]

    def count(n: list[object]) -> int:
        kids = n[4] if len(n) > 4 else []
        assert isinstance(kids, list)
        return 1 + sum(count(k) for k in kids)

    assert count(sflame["tree"]) == sflame["shown"] == 40 < flame["shown"] and sflame["capped"]
    assert count(flame["tree"]) == flame["shown"]
    # Capping drops frames, never CPU: the root still holds all of it.
    assert sflame["tree"][2] == flame["tree"][2]
    assert "Showing the 40 largest frames" in render_html(small)


def test_sites_link_to_source_snippets() -> None:
    page = render_html(_diagnosis("go1.27", "mapgrow-str", source=True))
    assert '<a href="#src-0"><code>mapdoctorlab/orders.go:24</code></a>' in page
    snippet = re.search(r'<div class=snippet id="src-0">.*?</pre>', page, flags=re.S)
    assert snippet is not None
    marked = re.findall(r"<span class=mark><i>(\d+)</i>([^<]*)</span>", snippet.group(0))
    # The line the profile blames and the line the fix goes on (make(map...) at line 22).
    assert any("orders[o.ID] = o" in text for _, text in marked) and len(marked) == 2
    assert "Source" in page and render_html(_diagnosis("go1.27", "mapgrow-str")).count("class=snippet") == 0


def test_every_lab_capture_renders_within_the_size_budget() -> None:
    sizes = {}
    for go_dir in ("go1.23", "go1.27"):
        for folder in sorted((FIXTURES / go_dir).iterdir()):
            if folder.is_dir():
                page = render_html(diagnose(load_inputs([folder])))
                sizes[f"{go_dir}/{folder.name}"] = len(page.encode())
    assert len(sizes) >= 40
    biggest = max(sizes, key=lambda k: sizes[k])
    assert sizes[biggest] < SIZE_BUDGET, (biggest, sizes[biggest])


def test_a_diagnosis_without_drawing_data_still_renders() -> None:
    d = _diagnosis("go1.27", "mapgrow-str")
    d.plots = None
    page = render_html(d)
    assert "flame graph was not prepared" in page and "MAP GROWTH" in page
