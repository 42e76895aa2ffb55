"""Severity, not verdict, sets a report's colour: a problem that is not map growth is still a problem."""

from __future__ import annotations

import pytest

from labdata import FIXTURES, GO_DIRS
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.severity import Level, Severity, level_of, severity_of
from mapdoctor.formats.detect import load_inputs

# Every lab situation whose verdict is "not map growth" but which is not healthy.
PROBLEMS = ["crash", "mutex", "gcpressure", "slicegrow", "syncmap", "smallmaps"]
HEALTHY = ["idle", "presized", "syncmap-read"]


@pytest.mark.parametrize("go", GO_DIRS)
@pytest.mark.parametrize("scenario", PROBLEMS)
def test_not_map_growth_problems_are_red(go: str, scenario: str) -> None:
    d = diagnose(load_inputs([FIXTURES / go / scenario]))
    assert d.verdict.value == "not_map_growth"
    assert severity_of(d) is Severity.PROBLEM
    assert level_of(d) is Level.RED


@pytest.mark.parametrize("go", GO_DIRS)
@pytest.mark.parametrize("scenario", HEALTHY)
def test_healthy_is_green(go: str, scenario: str) -> None:
    d = diagnose(load_inputs([FIXTURES / go / scenario]))
    assert severity_of(d) is Severity.OK and level_of(d) is Level.GREEN


def test_probable_only_is_amber() -> None:
    d = diagnose(load_inputs([FIXTURES / "go1.27" / "mapgrow-minor"]))
    assert severity_of(d) is Severity.PROBLEM and level_of(d) is Level.AMBER
