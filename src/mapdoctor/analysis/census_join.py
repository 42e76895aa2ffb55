"""The census joined with a verdict: which reachable map is the one growing at a profile's site.

A map-growth site names a function (``main.indexOrders`` at ``orders.go:24``); the census names
maps by the package-level path that reaches them. Candidates are the maps of the site's package
that grew during the census window (a census of one instant has no window: then those
mid-growth now, a weaker sign, since a classic map stays mid-growth until written again);
where the allocation profile showed the size of the buckets or groups allocated at the site,
only map types with that bucket (classic) or group (Swiss) size match, which tells ``map[string]*Order`` from
``map[int64]int64``. The best candidate (most doublings, then bytes) is the match; the site gets
its path, len, capacity, bytes and how many times it doubled. When no such map exists the site says so: the growing
map is then local to the function (made per call), which no census of package-level state
can see, and that is itself the finding.
"""

from __future__ import annotations

import re
from collections import Counter

from mapdoctor.analysis.census_findings import human_bytes
from mapdoctor.analysis.findings import CauseKind, Diagnosis
from mapdoctor.formats.dwarf import package_of
from mapdoctor.model.census import Census, MapGroup

_SLOT_SIZE = re.compile(r"(\d+)-byte (?:buckets|groups)")


def _site_bucket_bytes(detail: dict[str, object]) -> int:
    """The bucket or group size the allocation profile showed at the site (0: unknown)."""
    cap = detail.get("capacity")
    if isinstance(cap, dict):
        m = _SLOT_SIZE.search(str(cap.get("evidence", "")))
        if m:
            return int(m.group(1))
    return 0


def _grown(c: Census) -> Counter[str]:
    out: Counter[str] = Counter()
    for e in c.events:
        out[e.path] += e.doublings
    return out


def _describe(g: MapGroup, grown: int) -> dict[str, object]:
    return {"path": g.path, "type": g.type, "count": g.count, "len": g.len, "capacity": g.capacity,
            "bytes": g.bytes, "growing": g.growing, "grown": grown}


def join_census(d: Diagnosis, c: Census) -> int:
    """Annotate ``d``'s map-growth sites with the census; returns how many sites were matched."""
    grown = _grown(c)
    where = f"pid {c.pid}" if c.source == "pid" else c.core
    matched = 0
    watched = len(c.samples) >= 2
    for cause in d.causes:
        if cause.kind != CauseKind.MAP_GROWTH:
            continue
        for site in cause.sites:
            pkg = package_of(site.function)
            cands = [g for g in c.groups if package_of(g.path) == pkg
                     and (grown[g.path] if watched else g.growing)]
            size = _site_bucket_bytes(site.detail)
            if size:
                cands = [g for g in cands if not g.bucket_bytes or g.bucket_bytes == size]
            place = f"{site.file.rsplit('/', 1)[-1]}:{site.line}"
            if not cands:
                site.detail["census"] = None
                cause.evidence.append(
                    f"census of {where}: no map of package {pkg} reachable from package-level variables grew "
                    f"during the census; the map growing at {place} is local to {site.function} (made per call)")
                continue
            best = max(cands, key=lambda g: (grown[g.path], g.growing, g.bytes))
            site.detail["census"] = _describe(best, grown[best.path])
            site.detail["census"]["matched_by"] = "package and bucket size" if size else "package"
            times = (f"grown at least {grown[best.path]} times in the window (capacity doublings seen between "
                     "census samples)" if grown[best.path] else "growing now")
            maps = "" if best.count == 1 else f" ({best.count} maps)"
            cause.evidence.append(
                f"the map at {place} is {best.path}{maps} ({best.type}): {best.len:,} entries, capacity "
                f"{best.capacity:,}, {human_bytes(best.bytes)}, {times}")
            matched += 1
    d.notes.append(f"census of {where} joined: {len(c.groups):,} map paths, {matched} growth sites matched"
                   + (" (the census is partial)" if c.partial else ""))
    return matched
