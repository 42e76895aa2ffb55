"""Golden JSON files guard the public contract: same input, same document, field for field.

Regenerate after an intended change with ``MAPDOCTOR_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from labdata import EXPECT, FIXTURES, GO_DIRS
from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.formats.detect import load_inputs
from mapdoctor.reports.json_report import SCHEMA, to_dict

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = [(go, sc) for go in GO_DIRS for sc in EXPECT]
REQUIRED = {"schema", "verdict", "summary", "go", "shares", "causes", "inputs", "notes"}


def _document(go: str, scenario: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    monkeypatch.chdir(FIXTURES)  # relative input paths: the golden files carry no machine paths
    return to_dict(diagnose(load_inputs([Path(go) / scenario])))


@pytest.mark.parametrize(("go", "scenario"), CASES, ids=[f"{g}-{s}" for g, s in CASES])
def test_golden(go: str, scenario: str, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _document(go, scenario, monkeypatch)
    assert doc.keys() >= REQUIRED and doc["schema"] == SCHEMA
    path = GOLDEN / f"{go}-{scenario}.json"
    text = json.dumps(doc, indent=2) + "\n"
    if os.environ.get("MAPDOCTOR_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path.name}: run with MAPDOCTOR_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text()) == doc
