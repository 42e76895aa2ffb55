"""Reading a ``mapdoctor/census@1`` JSON file back into the census model (for ``--census FILE``).

Only what a join needs is rebuilt: the groups (path, type, impl, count, len, capacity, bytes,
growing, waste) and the growth events; anything else in the file is ignored. The document
comes from disk, so every field is checked for its type before use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import read_file
from mapdoctor.model.census import Census, GrowthEvent, MapGroup, Sample

SCHEMA = "mapdoctor/census@1"
MAX_CENSUS_BYTES = 256 << 20


def _int(obj: dict[str, Any], key: str, where: str) -> int:
    v = obj.get(key, 0)
    if not isinstance(v, int) or isinstance(v, bool):
        raise InputError(where, "census", f"{key!r} must be an integer")
    return v


def _str(obj: dict[str, Any], key: str, where: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str):
        raise InputError(where, "census", f"{key!r} must be a string")
    return v


def load_census(path: Path) -> Census:
    where = str(path)
    raw = read_file(path, limit=MAX_CENSUS_BYTES)
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(where, "census", f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise InputError(where, "census", f"not a {SCHEMA} document")
    maps = doc.get("maps")
    if not isinstance(maps, list) or not all(isinstance(m, dict) for m in maps):
        raise InputError(where, "census", "'maps' must be a list of objects")
    groups = [MapGroup(path=_str(m, "path", where), type=_str(m, "type", where), impl=_str(m, "impl", where),
                       count=_int(m, "count", where), len=_int(m, "len", where),
                       capacity=_int(m, "capacity", where), bytes=_int(m, "bytes", where),
                       growing=_int(m, "growing", where), waste_bytes=_int(m, "waste_bytes", where),
                       bucket_bytes=_int(m, "bucket_bytes", where))
              for m in maps]
    events = []
    for e in doc.get("events") or []:
        if isinstance(e, dict):
            t = e.get("t", 0)
            events.append(GrowthEvent(float(t) if isinstance(t, int | float) else 0.0, _str(e, "path", where),
                                      _int(e, "capacity_from", where), _int(e, "capacity_to", where),
                                      _int(e, "doublings", where)))
    samples = []
    for s in doc.get("samples") or []:
        if isinstance(s, dict) and isinstance(s.get("maps"), dict):
            t = s.get("t", 0)
            per = {p: (_int(v, "len", where), _int(v, "capacity", where), _int(v, "growing", where))
                   for p, v in s["maps"].items() if isinstance(v, dict)}
            samples.append(Sample(float(t) if isinstance(t, int | float) else 0.0, per))
    go_raw = doc.get("go")
    go: dict[str, Any] = go_raw if isinstance(go_raw, dict) else {}
    pid = doc.get("pid", 0)
    return Census(source="pid" if "core" not in doc else "core", pid=pid if isinstance(pid, int) else 0,
                  core=str(doc.get("core", "")), binary=str(doc.get("binary", "")),
                  go_version=str(go.get("version", "")), impl=str(go.get("impl", "")),
                  dwarf_version=0, maps=[], groups=groups, roots=0, objects=0, elapsed_s=0.0, bytes_read=0,
                  partial=bool(doc.get("partial", False)), events=events, samples=samples)
