"""mapdoctor compare: real lab captures before and after a fix, and the same build twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from labdata import FIXTURES, ROOT
from mapdoctor.analysis.compare_stats import fisher_exact, newcombe

SRC = ROOT / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def _compare(before: Path, after: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mapdoctor", "compare", str(before), str(after), *extra],
                          capture_output=True, text=True, timeout=120, env=ENV)


def _json(before: Path, after: Path) -> dict[str, Any]:
    r = _compare(before, after, "--json", "-")
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    assert out["schema"] == "mapdoctor/comparison@1"
    return out


def _cause(out: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in out["causes"] if c["kind"] == kind)
    return found


def test_newcombe_and_fisher_match_published_values() -> None:
    # Newcombe (1998), example (a): 56/70 vs 48/80, difference 0.2000, interval 0.0524 .. 0.3339.
    lo, hi = newcombe(48, 80, 56, 70)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    # Fisher's exact test, 1/10 vs 8/10: p = 0.005477 (R: fisher.test).
    assert fisher_exact(1, 10, 8, 10) == pytest.approx(0.005477, abs=1e-6)
    assert fisher_exact(3, 100, 3, 100) == pytest.approx(1.0)


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
def test_fix_drops_map_growth_with_an_interval_excluding_zero(go: str) -> None:
    out = _json(FIXTURES / go / "mapgrow-str", FIXTURES / go / "presized")
    growth = _cause(out, "map_growth")
    assert growth["before"] > 0.3 and growth["after"] < 0.02
    lo, hi = growth["ci"]
    assert lo < hi < 0, growth
    assert growth["significant"] and growth["p_value"] < 1e-6
    assert out["before"]["verdict"] == "map_growth" and out["after"]["verdict"] == "not_map_growth"
    vanished = [s for s in out["sites"] if s["change"] == "vanished" and s["kind"] == "map_growth"]
    assert vanished and vanished[0]["file"] == "mapdoctorlab/orders.go"
    assert out["requests"]["before"]["p99_ms"] > out["requests"]["after"]["p99_ms"]


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
@pytest.mark.parametrize(("before", "after", "kind"), [("slicegrow", "slicegrow-fixed", "slice_growth"),
                                                       ("gcpressure", "gcpressure-fixed", "gc_pressure")])
def test_fixed_variants_drop_their_cause(go: str, before: str, after: str, kind: str) -> None:
    out = _json(FIXTURES / go / before, FIXTURES / go / after)
    c = _cause(out, kind)
    assert c["status_before"] is not None and c["status_after"] is None, c
    assert c["significant"] and c["ci"][1] < 0 and c["before"] - c["after"] > 0.2, c


@pytest.mark.parametrize("go", ["go1.23", "go1.27"])
def test_same_build_twice_is_no_significant_change(go: str) -> None:
    base = FIXTURES / "repeat" / go
    out = _json(base / "mapgrow-str-1", base / "mapgrow-str-2")
    assert out["causes"], out
    for c in out["causes"]:
        if c["ci"] is not None:
            assert not c["significant"], c
            assert c["ci"][0] < 0 < c["ci"][1]
    assert out["warnings"] == []
    r = _compare(base / "mapgrow-str-1", base / "mapgrow-str-2", "--no-color")
    assert "no significant change" in r.stdout


def test_warns_when_the_sides_are_not_comparable() -> None:
    out = _json(FIXTURES / "go1.23" / "mapgrow-str", FIXTURES / "go1.27" / "presized")
    assert any("different Go versions" in w for w in out["warnings"])
    assert any("different map implementations" in w for w in out["warnings"])
    # The committed go1.27 fixture was built from an older lab and captured on a busier machine.
    out = _json(FIXTURES / "go1.27" / "mapgrow-str", FIXTURES / "repeat" / "go1.27" / "mapgrow-str-1")
    assert any("different binaries" in w for w in out["warnings"])
    assert any("different load" in w for w in out["warnings"])
    assert any("different inputs" in w for w in out["warnings"])


def test_missing_side_is_a_one_line_error(tmp_path: Path) -> None:
    r = _compare(tmp_path / "nope", FIXTURES / "go1.23" / "presized")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
