"""Which Go (and which map implementation) produced the inputs, from what they contain."""

from __future__ import annotations

from collections.abc import Iterable

from mapdoctor.analysis.findings import GoInfo
from mapdoctor.analysis.frametable import VERSION_HINTS, VersionHint


def _matches(hint: VersionHint, name: str) -> bool:
    p = hint.pattern
    return name.startswith(p[:-1]) if p.endswith("*") else name == p


def detect_go(function_names: Iterable[str], exact_version: str | None = None,
              trace_minor: int | None = None) -> GoInfo:
    """Combine function-name hints (and a trace header's version) into a GoInfo.

    ``exact_version`` is used when a source states it (a build-info line, a manifest).
    """
    since, until = 21, 27
    maps: set[str] = set()
    seen: list[str] = []
    for name in set(function_names):
        for hint in VERSION_HINTS:
            if _matches(hint, name):
                if hint.maps:
                    maps.add(hint.maps)
                if hint.since is not None:
                    since = max(since, hint.since)
                if hint.until is not None:
                    until = min(until, hint.until)
                seen.append(name)
    if trace_minor is not None:
        # Trace headers: 1.22 -> 22, 1.23 (written by 1.23 and 1.24) -> 23..24,
        # 1.25 -> 25, 1.26 (written by 1.26 and 1.27) -> 26..27.
        lo, hi = {22: (22, 22), 23: (23, 24), 25: (25, 25), 26: (26, 27)}.get(trace_minor, (21, 27))
        since, until = max(since, lo), min(until, hi)
    if "swiss" in maps:
        since = max(since, 24)
    impl: str | None = None
    if len(maps) == 1:
        impl = next(iter(maps))
    elif not maps and since >= 26:
        impl = "swiss"  # 1.26 removed the classic implementation
    elif not maps and until <= 23:
        impl = "classic"
    evidence = ""
    if seen:
        evidence = "frames " + ", ".join(sorted(set(seen))[:3])
    if since > until:
        evidence += " (conflicting hints: inputs from different Go versions?)"
        return GoInfo(exact_version, impl, evidence.strip(), None)
    rng = f"go1.{since}" if since == until else f"go1.{since}-go1.{until}"
    return GoInfo(exact_version, impl, evidence, rng)
