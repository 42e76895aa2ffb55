"""The verdict on every lab situation, both map implementations, from committed real captures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labdata import EXPECT, GO_DIRS, scenario_dir
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.findings import Diagnosis
from mapdoctor.formats.detect import load_inputs
from mapdoctor.reports.json_report import to_dict

CASES = [(go, sc) for go in GO_DIRS for sc in EXPECT]


def _diagnose(folder: Path) -> Diagnosis:
    if not folder.is_dir():
        pytest.fail(f"missing fixture folder {folder}: run python -m mapdoctor.lab.capture")
    return diagnose(load_inputs([folder]))


@pytest.mark.parametrize(("go", "scenario"), CASES, ids=[f"{g}-{s}" for g, s in CASES])
def test_verdict_primary_cause_and_site(go: str, scenario: str) -> None:
    d = _diagnose(scenario_dir(go, scenario))
    want = EXPECT[scenario]
    causes = [c.kind.value for c in d.causes if c.status == "confirmed"]
    assert d.verdict.value == want.verdict, (d.summary, causes)
    if want.primary is None:
        assert causes == [], d.summary
        return
    assert causes and causes[0] == want.primary, (d.summary, causes)
    site = want.site(go)
    assert site is not None
    top = d.causes[0].sites[0]
    assert (top.file, top.line) == site, d.causes[0]
    assert top.advice


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_map_implementation_is_detected(go: str) -> None:
    d = _diagnose(scenario_dir(go, "mapgrow-str"))
    assert d.go.maps == GO_DIRS[go]


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_growth_share_separates_growth_from_presized(go: str) -> None:
    grow = _diagnose(scenario_dir(go, "mapgrow-str")).shares["map_growth"]
    presized = _diagnose(scenario_dir(go, "presized")).shares["map_growth"]
    assert grow > 0.2
    assert presized < 0.02
    assert grow > 10 * presized


def test_shares_have_the_same_keys_every_time() -> None:
    keys = {tuple(to_dict(_diagnose(scenario_dir(go, sc)))["shares"]) for go, sc in CASES}
    assert len(keys) == 1


@pytest.mark.parametrize("go", list(GO_DIRS))
def test_timeline_ties_growth_to_pauses_only_where_maps_grow(go: str) -> None:
    grow = _diagnose(scenario_dir(go, "mapgrow-str")).timeline
    presized = _diagnose(scenario_dir(go, "presized")).timeline
    assert grow is not None and presized is not None
    assert grow["growth_samples"] > 0 and presized["growth_samples"] == 0
    overlap_grow = grow["assists"]["in_growth_bins_ms"] + grow["stw"]["in_growth_bins_ms"]
    overlap_presized = presized["assists"]["in_growth_bins_ms"] + presized["stw"]["in_growth_bins_ms"]
    assert overlap_grow > overlap_presized == 0
    json.dumps(grow)  # the section is plain JSON
