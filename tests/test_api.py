"""The Python API: typed results with the JSON contract's field names."""

from __future__ import annotations

from pathlib import Path

import pytest

import mapdoctor
from labdata import FIXTURES
from mapdoctor.analysis.compare import Comparison
from mapdoctor.analysis.findings import CauseKind, Diagnosis, Verdict
from mapdoctor.errors import InputError


def test_analyze_returns_the_diagnosis_of_the_json_contract() -> None:
    d = mapdoctor.analyze(FIXTURES / "go1.23" / "mapgrow-str")
    assert isinstance(d, Diagnosis)
    assert d.verdict is Verdict.MAP_GROWTH and d.causes[0].kind is CauseKind.MAP_GROWTH
    assert d.causes[0].sites[0].file == "mapdoctorlab/orders.go"
    j = mapdoctor.to_json(d)
    assert j["schema"] == "mapdoctor/diagnosis@1" and j["verdict"] == d.verdict.value
    assert j["causes"][0]["sites"][0]["line"] == d.causes[0].sites[0].line


def test_compare_takes_paths_or_lists() -> None:
    c = mapdoctor.compare([FIXTURES / "go1.27" / "mapgrow-str"], str(FIXTURES / "go1.27" / "presized"))
    assert isinstance(c, Comparison)
    growth = next(x for x in c.causes if x.kind == "map_growth")
    assert growth.significant and growth.ci is not None and growth.ci[1] < 0
    assert mapdoctor.to_json(c)["schema"] == "mapdoctor/comparison@1"


def test_bad_input_raises_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "cpu.pb.gz"
    bad.write_bytes(b"\x1f\x8b not really")
    with pytest.raises(InputError):
        mapdoctor.analyze([bad])
    with pytest.raises(InputError):
        mapdoctor.analyze([])
