"""``mapdoctor diagnose`` against the running lab service, built with both toolchains.

Each scenario is diagnosed over HTTP with a short window and checked against the JSON
contract: the verdict, the primary cause's kind and its top site (file:line).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapdoctor.cli.main import main
from mapdoctor.lab.build import LAB_SOURCE_DIR, build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go

pytestmark = pytest.mark.go

WINDOW_S = 2

# scenario -> (verdict, kind of causes[0], top site of causes[0]); None: not checked,
# "a|b": either is right (a scenario whose top two sites are close can swap them).
# A site is written "file.go:code on that line" and compared as file:line, the line being
# looked up in the lab's source, so editing the lab does not break the table.
Row = tuple[str, str | None, str | None]
EXPECTED: dict[str, Row] = {
    "mapgrow-str": ("map_growth", "map_growth", "orders.go:orders[o.ID] = o"),
    "mapgrow-int": ("map_growth", "map_growth", "sessions.go:sessions[s.ID] = s"),
    "presized": ("not_map_growth", None, None),
    "slicegrow": ("not_map_growth", "slice_growth", "stock_report.go:out = append(out, ReportLine{"),
    "syncmap": ("not_map_growth", "sync_map",
                "session_cache.go:cache.Load(key + r)|session_cache.go:cache.Store(key,"),
    "mutex": ("not_map_growth", "lock_contention", "counters_mutex.go:c.mu.Lock()"),
    "gcpressure": ("not_map_growth", "gc_pressure",
                   "garbage.go:n := &scratchNode{|garbage.go:batch = make([]*scratchNode"),
    # Nothing happens: an (almost) empty CPU profile over the window says "idle", nothing to blame.
    "idle": ("not_map_growth", None, None),
}
# A row for one toolchain only, when it must differ: (Go version, scenario) -> Row.
EXPECTED_BY_GO: dict[tuple[str, str], Row] = {}

#: Upper bound for one live run in a test (the bench measures the real figure).
RUN_BUDGET_S = WINDOW_S + 15


@pytest.fixture(scope="module", params=[CLASSIC_GO, SWISS_GO])
def lab_binary(request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    version: str = request.param
    yield version, build_lab(find_go(version))


def _diagnose_json(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    status = main(["diagnose", url, "--duration", str(WINDOW_S), "--json", "-", "--quiet", *extra])
    out, err = capsys.readouterr()
    assert status == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def _summary(report: dict[str, Any]) -> Row:
    causes = report["causes"]
    kind = causes[0]["kind"] if causes else None
    sites = causes[0]["sites"] if causes else []
    site = f"{Path(sites[0]['file']).name}:{sites[0]['line']}" if sites else None
    return report["verdict"], kind, site


def _source_site(spec: str) -> str:
    """``"orders.go:orders[o.ID] = o"`` -> ``"orders.go:24"``: the line of the lab holding that code."""
    name, _, code = spec.partition(":")
    lines = (LAB_SOURCE_DIR / name).read_text().splitlines()
    found = [i for i, line in enumerate(lines, 1) if code in line]
    assert len(found) == 1, f"{spec!r} matches lines {found} of the lab source"
    return f"{name}:{found[0]}"


def _expected(want: Row) -> Row:
    verdict, kind, site = want
    return verdict, kind, None if site is None else "|".join(_source_site(s) for s in site.split("|"))


def _matches(got: Row, want: Row) -> bool:
    return all(w is None or g in w.split("|") for g, w in zip(got, want, strict=True))


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_live_scenario(lab_binary: tuple[str, Path], scenario: str,
                       capsys: pytest.CaptureFixture[str]) -> None:
    version, binary = lab_binary
    want = _expected(EXPECTED_BY_GO.get((version, scenario), EXPECTED[scenario]))
    with LabService(binary, scenario) as svc:
        time.sleep(0.5)  # let the self-load reach its steady state
        start = time.monotonic()
        report = _diagnose_json(svc.base_url, capsys)
        elapsed = time.monotonic() - start
    got = _summary(report)
    assert _matches(got, want), f"go{version} {scenario}: got {got}, want {want}; notes {report['notes']}"
    assert elapsed < RUN_BUDGET_S
    assert report["partial"] is False, report["notes"]


def test_saved_evidence_gives_the_same_verdict_offline(lab_binary: tuple[str, Path], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    _, binary = lab_binary
    out_dir = tmp_path / "evidence"
    with LabService(binary, "mapgrow-str") as svc:
        live = _diagnose_json(svc.base_url + "/debug/pprof/", capsys, "--out", str(out_dir))
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert {p["status"] for p in manifest["parts"]} == {"ok"}
    assert main(["analyze", str(out_dir), "--json", "-"]) == 0
    offline = json.loads(capsys.readouterr().out)
    assert offline["verdict"] == live["verdict"]
    assert [c["kind"] for c in offline["causes"]] == [c["kind"] for c in live["causes"]]
    assert _summary(offline) == _summary(live)
