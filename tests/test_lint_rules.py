"""Every rule against real, compiling Go code: the findings are exactly the "want" markers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lint_support import GO_SRC, wants
from mapdoctor.source import Finding, lint_paths
from mapdoctor.source.lint import findings_at


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    return lint_paths([GO_SRC]).findings


def _rel(f: Finding) -> str:
    return str(Path(f.file).relative_to(GO_SRC))


def test_findings_are_exactly_the_wanted_ones(findings: list[Finding]) -> None:
    got = sorted((_rel(f), f.line, f.rule, f.confidence.value) for f in findings)
    want = sorted((w.file, w.line, w.rule, w.confidence) for w in wants())
    assert got == want


@pytest.mark.parametrize("rule", ["MD001", "MD002", "MD003", "MD004", "MD005", "MD006"])
def test_each_rule_has_positive_and_negative_cases(rule: str) -> None:
    assert any(w.rule == rule for w in wants())


def test_safe_fixes_only_where_the_bound_is_exact(findings: list[Finding]) -> None:
    marks = {(w.file, w.line, w.rule): w for w in wants()}
    for f in findings:
        if f.rule not in ("MD001", "MD002"):
            assert f.fix is None
            continue
        w = marks[(_rel(f), f.line, f.rule)]
        safe = f.fix is not None and f.fix.safe
        assert safe == (f.confidence.value == "high" and not w.nofix), (f.file, f.line, f.fix)


def test_bounds(findings: list[Finding]) -> None:
    bounds = {(_rel(f), f.symbol): f.bound for f in findings if f.rule in ("MD001", "MD002")}
    assert bounds[("prealloc/md001.go", "cents")] == "len(orders)"
    assert bounds[("prealloc/md001.go", "names")] == "n"
    assert bounds[("prealloc/md001.go", "seen")] == "n"
    assert ("prealloc/md001.go", "byID") in bounds
    assert bounds[("prealloc/md002.go", "sq")] == "n"


def test_known_prealloc_false_positives_are_not_high_confidence(findings: list[Finding]) -> None:
    by_line = {(_rel(f), f.line): f for f in findings}
    skip = by_line[("prealloc/md002.go", 34)]  # continue inside the loop
    assert skip.confidence.value == "low" and "continue" in skip.message
    assert skip.fix is not None and not skip.fix.safe
    lines = (GO_SRC / "prealloc/md002.go").read_text().splitlines()
    collect = next(i for i, t in enumerate(lines, 1) if t.startswith("func Collect("))
    assert not [f for f in findings if _rel(f) == "prealloc/md002.go" and collect <= f.line <= collect + 6]


def test_findings_at_matches_profile_style_paths(findings: list[Finding]) -> None:
    from mapdoctor.source.findings import LintReport

    report = LintReport(findings=findings)
    got = findings_at(report, "gosrc/prealloc/md001.go", 23)  # the write line of IndexOrders
    assert [f.rule for f in got] == ["MD001"] and got[0].symbol == "byID"
    assert findings_at(report, "other/nothere.go", 23) == []
