"""SARIF 2.1.0 output, in the shape GitHub code scanning ingests."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from mapdoctor import __version__
from mapdoctor.source.findings import Finding, LintReport, Span
from mapdoctor.source.rules import RULES

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> str:
    p = PurePath(path)
    if p.is_absolute():
        return p.as_uri()
    return p.as_posix().removeprefix("./")


def _region(s: Span) -> dict[str, int]:
    return {"startLine": s.line, "startColumn": s.column, "endLine": s.end_line,
            "endColumn": max(s.end_column, s.column + 1) if s.end_line == s.line else s.end_column}


def _result(f: Finding, rule_index: dict[str, int]) -> dict[str, Any]:
    uri = _uri(f.file)
    result: dict[str, Any] = {
        "ruleId": f.rule,
        "ruleIndex": rule_index[f.rule],
        "level": f.severity.value,
        "message": {"text": f.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": _region(f.span)}}],
        "properties": {"confidence": f.confidence.value},
    }
    if f.related:
        result["relatedLocations"] = [
            {"id": i, "message": {"text": r.message},
             "physicalLocation": {"artifactLocation": {"uri": uri},
                                  "region": {"startLine": r.line, "startColumn": r.column}}}
            for i, r in enumerate(f.related)
        ]
    if f.bound is not None:
        result["properties"]["bound"] = f.bound
    if f.cost is not None:
        result["properties"]["profileShare"] = round(f.cost.share, 6)
        result["properties"]["growthShare"] = round(f.cost.growth_share, 6)
    if f.capacity is not None:
        result["properties"]["capacity"] = {"low": f.capacity.low, "high": f.capacity.high,
                                            "recommended": f.capacity.recommended,
                                            "implementation": f.capacity.implementation}
    if f.fix is not None:
        result["fixes"] = [{
            "description": {"text": f.fix.description + ("" if f.fix.safe else f" (check: {f.fix.unsafe_reason})")},
            "artifactChanges": [{
                "artifactLocation": {"uri": uri},
                "replacements": [{"deletedRegion": _region(e.span), "insertedContent": {"text": e.replacement}}
                                 for e in f.fix.edits],
            }],
        }]
    return result


def to_sarif(report: LintReport) -> str:
    rules = list(RULES.values())
    rule_index = {r.id: i for i, r in enumerate(rules)}
    notifications = [
        {"level": "warning", "message": {"text": f"skipped: {s.reason}"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(s.file)}}}]}
        for s in report.skipped
    ]
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mapdoctor",
                "semanticVersion": __version__,
                "rules": [{
                    "id": r.id,
                    "name": r.name,
                    "shortDescription": {"text": r.summary},
                    "fullDescription": {"text": r.explanation},
                    "help": {"text": r.explanation},
                    "defaultConfiguration": {"level": r.severity.value},
                    "properties": {"tags": ["performance", "go", "maps"]},
                } for r in rules],
            }},
            "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
            "columnKind": "unicodeCodePoints",
            "results": [_result(f, rule_index) for f in report.findings],
        }],
    }
    return json.dumps(doc, indent=2) + "\n"
