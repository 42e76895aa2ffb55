"""The census as JSON: the ``mapdoctor/census@1`` contract (documented in docs/CENSUS.md).

Strings are kept exactly (type names and paths come from the target's binary); escaping is
for the terminal and HTML reporters. :mod:`mapdoctor.formats.census_json` reads it back.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from mapdoctor.formats.census_json import SCHEMA
from mapdoctor.model.census import Census, MapGroup, MapState


def _map(m: MapState) -> dict[str, Any]:
    return {
        "address": f"0x{m.address:x}", "len": m.len, "capacity": m.capacity, "bytes": m.bytes,
        "load": round(m.load, 4), "growing": m.growing,
        "evacuated": None if m.evacuated is None else round(m.evacuated, 4),
        "old_capacity": m.old_capacity, "overflow": m.overflow, "tombstones": m.tombstones, "tables": m.tables,
        "directory": m.directory, "waste_bytes": m.waste_bytes, "fresh_bytes": m.fresh_bytes, "stable": m.stable,
        "estimated": m.estimated,
    }


def _group(g: MapGroup) -> dict[str, Any]:
    lo, p50, p90, hi = g.len_quantiles
    return {
        "path": g.path, "type": g.type, "impl": g.impl, "count": g.count, "len": g.len, "capacity": g.capacity,
        "bytes": g.bytes, "load": round(g.load, 4), "growing": g.growing, "overflow": g.overflow,
        "tombstones": g.tombstones, "waste_bytes": g.waste_bytes, "fresh_bytes": g.fresh_bytes,
        "unstable": g.unstable, "bucket_bytes": g.bucket_bytes,
        "len_distribution": {"min": lo, "p50": p50, "p90": p90, "max": hi},
        "largest": [_map(m) for m in g.largest],
    }


def to_dict(c: Census) -> dict[str, Any]:
    out: dict[str, Any] = {"schema": SCHEMA}
    if c.source == "pid":
        out["pid"] = c.pid
    else:
        out["core"] = c.core
        if c.pid:
            out["pid"] = c.pid
    out["binary"] = c.binary
    out["go"] = {"version": c.go_version, "impl": c.impl, "dwarf_version": c.dwarf_version}
    out["maps"] = [_group(g) for g in c.groups]
    out["findings"] = [{"kind": f.kind, "path": f.path, "type": f.type, "message": f.message, "advice": f.advice,
                        "waste_bytes": f.waste_bytes} for f in c.findings]
    out["samples"] = [{"t": round(s.t, 3), "partial": s.partial,
                       "maps": {p: {"len": n, "capacity": cap, "growing": g} for p, (n, cap, g) in s.per_path.items()}}
                      for s in c.samples]
    out["events"] = [{"t": round(e.t, 3), "path": e.path, "capacity_from": e.capacity_from,
                      "capacity_to": e.capacity_to, "doublings": e.doublings} for e in c.events]
    out["freeze"] = None if c.freeze is None else {
        "budget_ms": c.freeze.budget_ms, "stopped_ms": round(c.freeze.stopped_ms, 3), "threads": c.freeze.threads,
        "maps_reread": c.freeze.maps_reread, "complete": c.freeze.complete}
    out["stats"] = {"roots": c.roots, "values_visited": c.objects, "maps_found": len(c.maps),
                    "elapsed_s": round(c.elapsed_s, 3), "bytes_read": c.bytes_read}
    out["limits"] = dict(c.limits)
    out["notes"] = list(c.notes)
    out["partial"] = c.partial
    return out


def write_census_json(c: Census, dest: str) -> None:
    text = json.dumps(to_dict(c), indent=2) + "\n"
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    # An OSError is the caller's to report (reports.emit.write_output).
    Path(dest).write_text(text, encoding="utf-8")
