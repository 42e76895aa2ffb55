"""`analyze --source`: the verdict's site gets the source finding and its exact fix."""

from __future__ import annotations

import pytest

from labdata import GO_DIRS, LAB_GO, scenario_dir
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import CauseKind
from mapdoctor.formats.detect import load_inputs

CASES = [
    ("mapgrow-str", "orders.go", "orders := make(map[string]*Order)", "make(map[string]*Order, len(batch))"),
    ("mapgrow-int", "sessions.go", "sessions := make(map[int64]*Session)", "make(map[int64]*Session, len(batch))"),
]


def _line_of(file: str, text: str) -> int:
    lines = (LAB_GO / file).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


@pytest.mark.parametrize("go", list(GO_DIRS))
@pytest.mark.parametrize(("scenario", "file", "make_text", "fix"), CASES)
def test_growth_site_gets_the_make_fix(go: str, scenario: str, file: str, make_text: str, fix: str) -> None:
    d = diagnose(load_inputs([scenario_dir(go, scenario)]), source_dir=LAB_GO)
    growth = next(c for c in d.causes if c.kind is CauseKind.MAP_GROWTH)
    site = growth.sites[0]
    assert fix in site.advice and f"{file}:{_line_of(file, make_text)}" in site.advice, site.advice
    findings = site.detail["source_findings"]
    assert findings[0]["rule"] == "MD001" and findings[0]["line"] == _line_of(file, make_text)
    # The runtime estimate is attached next to the symbolic bound.
    cap = site.detail["capacity"]
    assert "final size at" in site.advice and cap["low"] < 60000 <= cap["high"]
    # Narrow (within 2x), or the reason it cannot be is stated; the source bound is the advice.
    assert cap["narrow"] or cap["limit"] in site.advice
    assert site.advice.startswith(f"use {fix}")
