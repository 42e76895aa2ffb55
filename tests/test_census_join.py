"""``--census`` on analyze and diagnose: the map growing at a profile's site, named by the census."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from labdata import scenario_dir
from mapdoctor.cli.main import main
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.scenarios import LabService
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go


def _site_line(name: str, code: str) -> int:
    lines = (Path(__file__).resolve().parent.parent / "src/mapdoctor/lab/go" / name).read_text().splitlines()
    hits = [i for i, line in enumerate(lines, 1) if code in line]
    assert len(hits) == 1
    return hits[0]


@pytest.mark.go
@pytest.mark.parametrize("version", [CLASSIC_GO, SWISS_GO])
def test_diagnose_names_the_package_level_map_that_grows(version: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    binary = build_lab(find_go(version))
    with LabService(binary, "globalindex") as svc:
        time.sleep(0.5)
        capsys.readouterr()
        status = main(["diagnose", svc.base_url, "--duration", "3", "--census", str(svc.pid), "--json", "-",
                       "--quiet"])
        out, err = capsys.readouterr()
    assert status == 0, err
    report: dict[str, Any] = json.loads(out)
    assert report["verdict"] == "map_growth"
    site = report["causes"][0]["sites"][0]
    assert (site["file"].rsplit("/", 1)[-1], site["line"]) == \
        ("global_index.go", _site_line("global_index.go", "orderIndex[o.ID] = o"))
    census = site["detail"]["census"]
    assert census["path"] == "main.orderIndex" and census["type"] == "map[string]*main.Order"
    assert census["grown"] >= 1 and 0 < census["len"] <= 60000
    assert census["matched_by"] == "package and bucket size"
    assert any("is main.orderIndex" in e for e in report["causes"][0]["evidence"])


@pytest.mark.go
def test_a_per_call_map_is_said_to_be_local(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """orders.go builds its map per request: no package-level map of that bucket size grows."""
    binary = build_lab(find_go(CLASSIC_GO))
    census_json = tmp_path / "census.json"
    with LabService(binary, "census", start_timeout=60) as svc:
        assert main(["census", str(svc.pid), "--watch", "500ms", "--for", "1s", "--json", str(census_json),
                     "--quiet"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(scenario_dir("go1.23", "mapgrow-str")), "--census", str(census_json),
                 "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    cause = report["causes"][0]
    assert cause["kind"] == "map_growth" and cause["sites"][0]["detail"]["census"] is None
    assert any("local to main.indexOrders" in e for e in cause["evidence"]), cause["evidence"]
    assert any("census of pid" in n and "0 growth sites matched" in n for n in report["notes"])


def test_bad_census_file_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "census.json"
    bad.write_text('{"schema": "mapdoctor/census@1", "maps": [{"path": 3}]}')
    capsys.readouterr()
    assert main(["analyze", str(scenario_dir("go1.23", "mapgrow-str")), "--census", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"{bad}: census: 'path' must be a string", err
    bad.write_text("{}")
    assert main(["analyze", str(scenario_dir("go1.23", "mapgrow-str")), "--census", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == f"{bad}: census: not a mapdoctor/census@1 document"
