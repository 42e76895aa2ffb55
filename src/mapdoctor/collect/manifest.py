"""``manifest.json``: what an evidence folder holds, where it came from, what failed.

It lets ``mapdoctor analyze DIR`` (and a person) know how the evidence was taken. It
never holds credentials: the URL has no user info and no query, request lines carry
only mapdoctor's own parameters, and of the extra headers only the names are kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mapdoctor import __version__
from mapdoctor.collect.collector import Collection

MANIFEST_NAME = "manifest.json"  # also named in mapdoctor.cli.diagnose, which must not import this
MANIFEST_FORMAT = 1


def manifest_dict(coll: Collection, *, load_errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The manifest's content. ``load_errors`` maps a file name to why it could not be read."""
    load_errors = load_errors or {}
    target = coll.target
    return {
        "format": MANIFEST_FORMAT,
        "tool": f"mapdoctor {__version__}",
        "target": target.display,
        "headers": [name for name, _ in target.headers],
        "started_at": coll.started_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "window_s": coll.duration_s,
        "trace_s": coll.trace_s,
        "elapsed_s": round(coll.elapsed_s, 3),
        "goroutines": coll.goroutine_count,
        "go": None if coll.go_hint is None else {
            "releases": coll.go_hint.releases, "evidence": coll.go_hint.evidence,
        },
        "parts": [
            {
                "name": p.spec.name,
                "what": p.spec.label,
                "request": target.prefix + p.spec.request,
                "file": p.path.name if p.path is not None else None,
                "status": p.status,
                "http_status": p.http_status,
                "bytes": p.size,
                "started_s": round(p.started_s, 3),
                "elapsed_s": round(p.elapsed_s, 3),
                "error": p.error or (load_errors.get(p.path.name) if p.path is not None else None),
            }
            for p in coll.parts
        ],
        "notes": coll.notes(),
    }


def write_manifest(coll: Collection, folder: Path, *, load_errors: dict[str, str] | None = None) -> Path:
    path = folder / MANIFEST_NAME
    text = json.dumps(manifest_dict(coll, load_errors=load_errors), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
