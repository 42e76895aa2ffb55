"""The JSON form of a lint report (documented in docs/LINT.md, "JSON output")."""

from __future__ import annotations

import json
from typing import Any

from mapdoctor import __version__
from mapdoctor.source.findings import CapacityEstimate, Finding, LintReport, Span
from mapdoctor.source.rules import RULES

#: Bumped when a field changes meaning or disappears (adding fields keeps it).
JSON_VERSION = 1


def _span(s: Span) -> dict[str, int]:
    return {"line": s.line, "column": s.column, "end_line": s.end_line, "end_column": s.end_column,
            "start_byte": s.start_byte, "end_byte": s.end_byte}


def capacity_dict(c: CapacityEstimate) -> dict[str, Any]:
    return {"file": c.file, "line": c.line, "implementation": c.implementation, "low": c.low,
            "high": c.high, "recommended": c.recommended, "evidence": c.evidence,
            "key_size": c.key_size, "elem_size": c.elem_size, "maps_observed": round(c.maps_observed, 1),
            "narrow": c.narrow, **({"limit": c.limit} if c.limit else {})}


def finding_dict(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule,
        "name": RULES[f.rule].name,
        "file": f.file,
        **_span(f.span),
        "message": f.message,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "symbol": f.symbol,
        "bound": f.bound,
        "fix": None if f.fix is None else {
            "description": f.fix.description,
            "safe": f.fix.safe,
            "unsafe_reason": f.fix.unsafe_reason,
            "edits": [{**_span(e.span), "replacement": e.replacement} for e in f.fix.edits],
        },
        "related": [{"line": r.line, "column": r.column, "message": r.message} for r in f.related],
        "cost_lines": list(f.cost_lines),
        "cost": None if f.cost is None else {
            "values": {k: {"value": v, "unit": u} for k, (v, u) in f.cost.values.items()},
            "share": round(f.cost.share, 6),
            "growth_share": round(f.cost.growth_share, 6),
        },
        "capacity": None if f.capacity is None else capacity_dict(f.capacity),
    }


def to_json(report: LintReport) -> str:
    doc = {
        "version": JSON_VERSION,
        "tool": {"name": "mapdoctor lint", "version": __version__},
        "files_checked": report.files_checked,
        "lines_checked": report.lines_checked,
        "profiles": report.profiles,
        "findings": [finding_dict(f) for f in report.findings],
        "skipped": [{"file": s.file, "reason": s.reason} for s in report.skipped],
        "profile_sites": [{"kind": ps.kind, "file": ps.file, "line": ps.line, "function": ps.function,
                           "share": round(ps.share, 4), "rule": ps.rule or None,
                           "finding": {"file": ps.finding_file, "line": ps.finding_line} if ps.rule else None,
                           "reason": ps.reason or None} for ps in report.profile_sites],
        "rules": {r.id: {"name": r.name, "summary": r.summary, "severity": r.severity.value}
                  for r in RULES.values()},
    }
    return json.dumps(doc, indent=2) + "\n"
