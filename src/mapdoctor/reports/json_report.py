"""The public JSON contract ``mapdoctor/diagnosis@1`` (documented in docs/JSON.md).

Field names are stable: add fields, never rename or remove them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mapdoctor.analysis.findings import Cause, Diagnosis, Site
from mapdoctor.analysis.measures import as_dict as measure_dict
from mapdoctor.analysis.severity import level_of, severity_of

SCHEMA = "mapdoctor/diagnosis@1"


def _round(x: float) -> float:
    return round(x, 4)


def _site(s: Site) -> dict[str, Any]:
    out: dict[str, Any] = {
        "function": s.function, "file": s.file, "line": s.line, "share": _round(s.share), "advice": s.advice,
    }
    if s.detail:
        out["detail"] = s.detail
    return out


def _cause(c: Cause) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": c.kind.value,
        "score": _round(c.score),
        "status": c.status,
        "evidence": list(c.evidence),
        "sites": [_site(s) for s in c.sites],
    }
    if c.interval is not None:
        out["interval"] = c.interval.as_dict()
    if c.threshold:
        out["threshold"] = _round(c.threshold)
    if c.gc_charged:
        out["gc_charged"] = _round(c.gc_charged)
    out["measure"] = measure_dict(c)
    return out


def to_dict(d: Diagnosis) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "verdict": d.verdict.value,
        "severity": severity_of(d).value,
        "level": level_of(d).value,
        "summary": d.summary,
        "confidence": d.confidence,
        "partial": d.partial,
        "go": {"version": d.go.version, "maps": d.go.maps, "range": d.go.range, "evidence": d.go.evidence},
        "shares": {k: _round(v) for k, v in d.shares.items()},
        "cpu_samples": d.cpu_samples,
        "share_intervals": {k: [lo, hi] for k, (lo, hi) in d.share_intervals.items()},
        "causes": [_cause(c) for c in d.causes],
        "inputs": [{"path": i.path, "kind": i.kind, **({"note": i.note} if i.note else {})} for i in d.inputs],
        "notes": list(d.notes),
    }
    if d.timeline is not None:
        out["timeline"] = d.timeline
    if d.runbook:
        out["runbook"] = d.runbook
    return out


def dumps(d: Diagnosis) -> str:
    return json.dumps(to_dict(d), indent=2, sort_keys=False) + "\n"


def write_json(d: Diagnosis, target: str) -> None:
    """Write the contract to ``target``; ``-`` is stdout."""
    text = dumps(d)
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(target).write_text(text, encoding="utf-8")


class JsonReporter:
    def __init__(self, target: str) -> None:
        self.target = target

    def write(self, diagnosis: Diagnosis) -> None:
        write_json(diagnosis, self.target)
