"""The HTML report is one self-contained file, and nothing from the inputs reaches it unescaped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from labdata import scenario_dir
from mapdoctor.formats.pprof import encode_profile
from mapdoctor.model.profile import Function, Line, Location, Profile, Sample, ValueType

EVIL_FN = 'main.<script>alert("fn")</script>'
EVIL_FILE = '"><img src=x onerror=alert(1)>/orders.go'


def _evil_cpu_profile() -> bytes:
    """A CPU profile whose user frame (under real map-growth runtime frames) carries markup."""
    names = [("runtime.evacuate_faststr", "runtime/map_faststr.go"),
             ("runtime.growWork_faststr", "runtime/map_faststr.go"),
             ("runtime.mapassign_faststr", "runtime/map_faststr.go"),
             (EVIL_FN, EVIL_FILE)]
    funcs = [Function(i + 1, n, n, f, 1) for i, (n, f) in enumerate(names)]
    locs = [Location(i + 1, 0x1000 + i, None, (Line(fn, 10 + i),)) for i, fn in enumerate(funcs)]
    samples = [Sample(tuple(locs), (200, 2_000_000_000))]
    prof = Profile([ValueType("samples", "count"), ValueType("cpu", "nanoseconds")], samples, locs, funcs, [],
                   period_type=ValueType("cpu", "nanoseconds"), period=10_000_000, duration_nanos=3_000_000_000)
    return encode_profile(prof)


def test_markup_from_profiles_is_escaped(tmp_path: Path) -> None:
    prof = tmp_path / "evil.pb"
    prof.write_bytes(_evil_cpu_profile())
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(prof), "--html", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert "map growth" in page  # the evil frame was analysed as the growth site ...
    assert "<script" not in page and "<img" not in page  # ... and printed only as text
    assert "&lt;script&gt;" in page and "&lt;img src=x" in page
    # The terminal report prints it literally too (rich markup is not interpreted).
    assert "alert(" in proc.stdout


def test_report_is_a_single_self_contained_file(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    proc = subprocess.run([sys.executable, "-m", "mapdoctor", "analyze", str(scenario_dir("go1.23", "mapgrow-str")),
                           "--html", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = out.read_text()
    assert page.startswith("<!doctype html>") and "MAP GROWTH" in page
    assert "<svg" in page  # the timeline, drawn inline
    for external in ("src=\"http", "href=\"http", "<script", "<link", "@import"):
        assert external not in page
    assert "default-src 'none'" in page
