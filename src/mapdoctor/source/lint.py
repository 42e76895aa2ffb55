"""The library entry points of `mapdoctor lint`: lint paths, rank by profile cost, look up."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from mapdoctor.model.profile import Profile
from mapdoctor.source.analyze import PackageResult, lint_package
from mapdoctor.source.capacity import estimate_map_capacity
from mapdoctor.source.files import discover
from mapdoctor.source.findings import (
    CapacityEstimate,
    Finding,
    LineCost,
    LintReport,
    ProfileSite,
    SkippedFile,
)
from mapdoctor.source.profile_match import (
    BlamedSite,
    FileMatcher,
    ProfileCosts,
    blamed_sites,
    parts,
    profile_costs,
    suffix_score,
)

#: A line the CPU profile blames for growth or churn must get a finding or a reason when at
#: least this share of the profile is spent there.
MIN_GROWTH_SHARE = 0.01


def lint_paths(
    paths: Sequence[Path],
    profiles: Sequence[Profile] = (),
    *,
    include_vendor: bool = False,
    workers: int = 1,
) -> LintReport:
    """Lint the Go files under ``paths`` and, with profiles, rank the findings by the cost the
    profiles measured at their lines (most expensive first) and estimate map sizes."""
    files, missing = discover(paths, include_vendor=include_vendor)
    report = LintReport()
    report.skipped.extend(SkippedFile(str(p), "no such file or directory") for p in missing)
    blamed, unmatched = _blamed_by_source(profiles, [str(f) for f in files])
    groups: dict[Path, list[tuple[str, str]]] = {}
    for f in files:
        groups.setdefault(f.parent, []).append((str(f), str(f)))
    units = sorted(((g, tuple(b for p, _ in g for b in blamed.get(p, ()))) for g in groups.values()),
                   key=lambda u: -sum(_size(p) for p, _ in u[0]))
    results: list[PackageResult]
    if workers > 1 and len(units) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_lint_unit, units, chunksize=4))
    else:
        results = [_lint_unit(u) for u in units]
    for r in results:
        report.findings.extend(r.findings)
        report.skipped.extend(r.skipped)
        report.files_checked += r.files
        report.lines_checked += r.lines
        report.profile_sites.extend(r.profile_sites)
    report.profile_sites.extend(unmatched)
    report.profile_sites.sort(key=lambda s: -s.share)
    report.findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule))
    report.skipped.sort(key=lambda s: s.file)
    if profiles:
        attach_profiles(report, profiles, sorted({str(f) for f in files}))
    return report


def _lint_unit(unit: tuple[list[tuple[str, str]], tuple[tuple[str, BlamedSite], ...]]) -> PackageResult:
    return lint_package(unit[0], unit[1])


def _blamed_by_source(profiles: Sequence[Profile], source_files: Sequence[str]
                      ) -> tuple[dict[str, list[tuple[str, BlamedSite]]], list[ProfileSite]]:
    """The lines the CPU profiles blame, by the source file they are in (best path-suffix match);
    and the blamed lines of files that are not among the sources, with that as their reason."""
    by_file: dict[str, list[tuple[str, BlamedSite]]] = {}
    unmatched: list[ProfileSite] = []
    seen: set[tuple[str, str, int]] = set()
    for prof in profiles:
        sites = blamed_sites(prof, MIN_GROWTH_SHARE)
        if not sites:
            continue
        matcher = FileMatcher(s.file for s in sites)
        owner: dict[str, str] = {}
        for src in source_files:
            for name in matcher.names_for(src):
                best = owner.get(name)
                if best is None or suffix_score(src, name) > suffix_score(best, name):
                    owner[name] = src
        for site in sites:
            key = (site.kind, site.file, site.line)
            if key in seen:
                continue
            seen.add(key)
            found = owner.get(site.file)
            if found is None:
                unmatched.append(ProfileSite(site.kind, site.file, site.line, site.function, site.share,
                                             reason="the file is not among the sources given"))
            else:
                by_file.setdefault(found, []).append((found, site))
    return by_file, unmatched


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def attach_profiles(report: LintReport, profiles: Sequence[Profile], source_files: Sequence[str] = ()) -> None:
    """Measure each finding's lines in the profiles, add what only the profiles show (map
    growth at a line no rule flagged), estimate map sizes, and sort by cost."""
    pairs = [(p, c) for p in profiles for c in [profile_costs(p)] if c is not None]
    costs = [c for _, c in pairs]
    for f in report.findings:
        _attach_cost(f, costs)
    allocs = [(p, c) for p, c in pairs if p.value_index("alloc_space") is not None]
    for f in report.findings:
        if f.rule in ("MD001", "MD006") and f.cost is not None:
            f.capacity = _capacity(f, allocs)
    report.findings.sort(key=lambda f: (
        -(f.cost.share if f.cost else -1.0),
        -(f.cost.growth_share if f.cost else 0.0),
        f.file, f.line, f.rule,
    ))


def _attach_cost(f: Finding, costs: Sequence[ProfileCosts]) -> None:
    values: dict[str, tuple[int, str]] = {}
    share = 0.0
    growth_share = 0.0
    for pc in costs:
        cost, growth = pc.cost_at(f.file, f.cost_lines)
        if cost <= 0:
            continue
        values[pc.name] = (values.get(pc.name, (0, pc.unit))[0] + cost, pc.unit)
        if pc.total > 0:
            share = max(share, cost / pc.total)
            growth_share = max(growth_share, growth / pc.total)
    if values:
        f.cost = LineCost(values, share, growth_share)


def _capacity(f: Finding, allocs: Sequence[tuple[Profile, ProfileCosts]]) -> CapacityEstimate | None:
    lines = [ln for ln in f.cost_lines if ln != f.line] or list(f.cost_lines)
    best: CapacityEstimate | None = None
    for p, pc in allocs:
        for name in pc.matcher.names_for(f.file):
            for ln in lines:
                est = estimate_map_capacity(p, name, ln, key_size=f.key_size, elem_size=f.elem_size)
                if est is not None and (best is None or est.maps_observed > best.maps_observed):
                    best = est
    return best


def findings_at(report: LintReport, file_suffix: str, line: int) -> list[Finding]:
    """Findings about ``line`` of the file whose path ends like ``file_suffix`` (a profile's
    file name such as ``mapdoctorlab/orders.go`` matches ``src/.../orders.go``: the file names
    are compared from the end, best match wins)."""
    at_line = [f for f in report.findings
               if line in f.cost_lines or f.span.line <= line <= f.span.end_line]
    scored = [(suffix_score(f.file, file_suffix), f) for f in at_line]
    best = max((s for s, _ in scored), default=0)
    if best < 1 or not parts(file_suffix):
        return []
    return [f for s, f in scored if s == best]
