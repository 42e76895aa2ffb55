"""What to do about the maps found: the "never shrinks" finding and maps growing right now.

Go maps never give memory back (golang/go#20135): after deletes a map keeps every bucket or
table it ever grew to. The waste is the bytes held minus what ``make(map[K]V, len)`` would
hold for today's len; the fix depends on the implementation, because ``maps.Clone`` sizes the
copy by len on classic maps but copies the tables at their size on Swiss tables (Go >= 1.24).
"""

from __future__ import annotations

from mapdoctor.model.census import Census, CensusFinding, MapGroup

#: A path is reported when its waste is at least this many bytes ...
MIN_WASTE_BYTES = 1 << 20
#: ... and at least this share of what it holds.
MIN_WASTE_SHARE = 0.5


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def _rebuild_advice(g: MapGroup) -> str:
    if g.impl == "swiss":
        how = ("copy it into a map made with its size (`n := make(map[K]V, len(m)); for k, v := range m "
               "{ n[k] = v }; m = n`); maps.Clone keeps the old tables' size on Go 1.24+")
    else:
        how = "rebuild it with `m = maps.Clone(m)` or by copying into `make(map[K]V, len(m))`"
    return (f"Once it has shrunk, {how}, under the same lock as its writers; or bound it (an LRU or a "
            "size cap) so that it never reaches the peak.")


def findings(census: Census) -> list[CensusFinding]:
    out: list[CensusFinding] = []
    for g in census.groups:
        if g.waste_bytes >= MIN_WASTE_BYTES and g.waste_bytes >= MIN_WASTE_SHARE * g.bytes:
            maps = "map" if g.count == 1 else f"{g.count} maps"
            out.append(CensusFinding(
                kind="never_shrinks", path=g.path, type=g.type,
                message=(f"{g.path} ({maps}) holds {human_bytes(g.bytes)} for {g.len:,} entries; a fresh map of "
                         f"that len needs {human_bytes(g.fresh_bytes)}: {human_bytes(g.waste_bytes)} kept from a "
                         "past peak (Go maps never shrink)"),
                advice=_rebuild_advice(g), waste_bytes=g.waste_bytes))
    for g in census.groups:
        if g.growing and g.impl == "classic":
            mid = [m for m in g.largest if m.evacuated is not None]
            progress = f", {100 * mid[0].evacuated:.0f}% evacuated" if mid and mid[0].evacuated is not None else ""
            out.append(CensusFinding(
                kind="growing", path=g.path, type=g.type,
                message=(f"{g.path}: {g.growing} of {g.count} maps mid-growth{progress}; old buckets stay "
                         "allocated until writes finish evacuating them"),
                advice="If it grows on a hot path, size it at creation: make(map[K]V, expected)."))
    out.sort(key=lambda f: (f.kind != "never_shrinks", -f.waste_bytes, f.path))
    return out
