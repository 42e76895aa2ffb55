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
    Confidence,
    Finding,
    LineCost,
    LintReport,
    SkippedFile,
    Span,
)
from mapdoctor.source.profile_match import ProfileCosts, parts, profile_costs, suffix_score
from mapdoctor.source.rules import RULES

#: A growth site shown by a profile but not by a rule is reported when at least this share of
#: the CPU profile is map growth at that line.
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
    groups: dict[Path, list[tuple[str, str]]] = {}
    for f in files:
        groups.setdefault(f.parent, []).append((str(f), str(f)))
    units = sorted(groups.values(), key=lambda g: -sum(_size(p) for p, _ in g))
    results: list[PackageResult]
    if workers > 1 and len(units) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lint_package, units, chunksize=4))
    else:
        results = [lint_package(u) for u in units]
    for r in results:
        report.findings.extend(r.findings)
        report.skipped.extend(r.skipped)
        report.files_checked += r.files
        report.lines_checked += r.lines
    report.findings.sort(key=lambda f: (f.file, f.line, f.column, f.rule))
    report.skipped.sort(key=lambda s: s.file)
    if profiles:
        attach_profiles(report, profiles, sorted({str(f) for f in files}))
    return report


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
    _add_growth_sites(report, costs, source_files)
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


def _add_growth_sites(report: LintReport, costs: Sequence[ProfileCosts], source_files: Sequence[str]) -> None:
    covered = {(f.file, ln) for f in report.findings for ln in f.cost_lines}
    for pc in costs:
        if pc.total <= 0:
            continue
        for src in source_files:
            names = pc.matcher.names_for(src)
            for (name, line), growth in pc.growth_by_line.items():
                if name not in names or (src, line) in covered or growth / pc.total < MIN_GROWTH_SHARE:
                    continue
                covered.add((src, line))
                share = growth / pc.total
                f = Finding(
                    rule="MD001",
                    file=src,
                    span=Span(line, 1, line, 1, 0, 0),
                    message=(f"the map assigned at this line grew at run time ({share:.1%} of {pc.name} in "
                             f"map growth under runtime.mapassign): give it a size hint where it is made"),
                    severity=RULES["MD001"].severity,
                    confidence=Confidence.MEDIUM,
                    cost_lines=(line,),
                )
                _attach_cost(f, costs)
                report.findings.append(f)


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
