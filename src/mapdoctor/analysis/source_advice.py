"""Turn a verdict's sites into changes: capacity hints from the allocations, fixes from the source.

Without source, a map-growth site gets a number: the map's final size estimated from the
sizes of its growth allocations (allocs/heap profile). With ``--source``, the matching
source findings (``mapdoctor lint``) are attached, and their fix — e.g.
``make(map[string]*Order, len(batch))`` at orders.go:22 — becomes the advice.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mapdoctor.analysis.advice import capacity_text, map_hint_advice
from mapdoctor.analysis.findings import CauseKind, Diagnosis, Site
from mapdoctor.formats.detect import InputKind, LoadedInput
from mapdoctor.model.profile import Profile

#: Which lint rules speak to which cause.
RULES_FOR: dict[CauseKind, tuple[str, ...]] = {
    CauseKind.MAP_GROWTH: ("MD001", "MD006"),
    CauseKind.SLICE_GROWTH: ("MD002",),
    CauseKind.SYNC_MAP: ("MD004",),
    CauseKind.CONCURRENT_MAP_WRITES: ("MD003",),
    CauseKind.LOCK_CONTENTION: (),
    CauseKind.GC_PRESSURE: ("MD002", "MD006"),
}


def _alloc_profiles(inputs: Sequence[LoadedInput]) -> list[Profile]:
    allocs = [i.profile for i in inputs if i.kind is InputKind.ALLOCS and i.profile is not None]
    return allocs or [i.profile for i in inputs if i.kind is InputKind.HEAP and i.profile is not None]


def attach_capacity(diagnosis: Diagnosis, inputs: Sequence[LoadedInput]) -> None:
    """Give each map-growth site a size hint estimated from its growth allocations."""
    from mapdoctor.source.capacity import estimate_map_capacity

    profiles = _alloc_profiles(inputs)
    if not profiles:
        return
    for cause in diagnosis.causes:
        if cause.kind is not CauseKind.MAP_GROWTH:
            continue
        for site in cause.sites:
            if not site.file:
                continue
            for prof in profiles:
                est = estimate_map_capacity(prof, site.file, site.line, implementation=diagnosis.go.maps)
                if est is None:
                    continue
                site.detail["capacity"] = {"low": est.low, "high": est.high, "recommended": est.recommended,
                                           "implementation": est.implementation, "evidence": est.evidence,
                                           "narrow": est.narrow, **({"limit": est.limit} if est.limit else {})}
                if site is cause.sites[0]:
                    site.advice = map_hint_advice(est.low, est.high, est.recommended, est.limit)
                break


def _finding_dict(f: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"rule": f.rule, "file": f.file, "line": f.line, "message": f.message}
    if f.fix is not None:
        out["fix"] = f.fix.description
    if f.bound:
        out["bound"] = f.bound
    return out


def _advice_from(site: Site, finding: Any) -> str:
    where = f"{finding.file}:{finding.line}"
    capacity = site.detail.get("capacity")
    agrees = ""
    if capacity and finding.bound:
        # The bound is symbolic and exact: it is the recommendation; the data can only say what it
        # should evaluate to.
        size = capacity_text(capacity["low"], capacity["high"], capacity.get("limit", ""))
        agrees = (f"; the profile's growth allocations put the map's final size at {size}, which {finding.bound} "
                  "should match")
    if finding.fix is not None:
        return f"{finding.fix.description} at {where}{agrees}"
    return f"{finding.message} ({where}){agrees}"


def _no_finding_reason(report: Any, site: Site) -> str:
    """Why the lint found nothing at a site the profile blames (from the lint's own account)."""
    from mapdoctor.source.profile_match import suffix_score

    best = max((ps for ps in report.profile_sites if ps.line == site.line and not ps.rule),
               key=lambda ps: suffix_score(ps.file, site.file), default=None)
    if best is None or suffix_score(best.file, site.file) < 1:
        return ""
    return str(best.reason)


def attach_source_findings(diagnosis: Diagnosis, source_dir: Path, inputs: Sequence[LoadedInput]) -> None:
    """Attach the lint findings that concern each site; the best fix becomes the advice."""
    from mapdoctor.source import findings_at, lint_paths

    profiles = [i.profile for i in inputs if i.profile is not None
                and i.kind in (InputKind.CPU, InputKind.ALLOCS, InputKind.HEAP)]
    report = lint_paths([source_dir], profiles)
    matched = 0
    for cause in diagnosis.causes:
        wanted = RULES_FOR.get(cause.kind, ())
        for site in cause.sites:
            if not site.file:
                continue
            found = [f for f in findings_at(report, site.file, site.line) if f.rule in wanted]
            if not found:
                why = _no_finding_reason(report, site)
                if why:
                    site.detail["no_finding"] = why
                continue
            matched += 1
            site.detail["source_findings"] = [_finding_dict(f) for f in found]
            if site is cause.sites[0]:
                site.advice = _advice_from(site, found[0])
    diagnosis.notes.append(f"source {source_dir}: {len(report.findings)} findings, {matched} at the verdict's sites")
