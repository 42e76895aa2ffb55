"""The public JSON contract ``mapdoctor/comparison@1`` (documented in docs/JSON.md).

Field names are stable: add fields, never rename or remove them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mapdoctor.analysis.compare import Comparison
from mapdoctor.analysis.findings import Diagnosis

SCHEMA = "mapdoctor/comparison@1"


def _side(d: Diagnosis) -> dict[str, Any]:
    return {"verdict": d.verdict.value, "summary": d.summary, "confidence": d.confidence,
            "go": d.go.version, "maps": d.go.maps, "cpu_samples": d.cpu_samples, "partial": d.partial,
            "causes": [{"kind": c.kind.value, "score": round(c.score, 4), "status": c.status} for c in d.causes],
            "inputs": [i.path for i in d.inputs]}


def to_dict(c: Comparison) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "before": _side(c.before),
        "after": _side(c.after),
        "causes": [{"kind": x.kind, "measure": x.measure, "before": x.before, "after": x.after, "delta": x.delta,
                    "ci": list(x.ci) if x.ci else None, "significant": x.significant, "p_value": x.p_value,
                    "status_before": x.status_before, "status_after": x.status_after} for x in c.causes],
        "sites": [{"kind": s.kind, "function": s.function, "file": s.file, "line": s.line, "before": s.before,
                   "after": s.after, "delta": round(s.after - s.before, 4), "change": s.change,
                   "ci": list(s.ci) if s.ci else None, "significant": s.significant} for s in c.sites],
        "requests": c.requests,
        "warnings": list(c.warnings),
    }


def dumps(c: Comparison) -> str:
    return json.dumps(to_dict(c), indent=2) + "\n"


def write_json(c: Comparison, target: str) -> None:
    """Write the contract to ``target``; ``-`` is stdout."""
    text = dumps(c)
    if target == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        Path(target).write_text(text, encoding="utf-8")
