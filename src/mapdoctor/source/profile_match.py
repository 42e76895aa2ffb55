"""Matching profile locations to source lines, and the cost a profile measured at them.

Profiles name files as the binary recorded them: module-relative with -trimpath
(``mapdoctorlab/orders.go``), absolute otherwise. Source files are named as given on the
command line. Both are compared by their trailing path components.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from mapdoctor.analysis import frametable
from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.frametable import Cost
from mapdoctor.analysis.goinfo import detect_go
from mapdoctor.model.profile import Profile, Sample

SWISS_PREFIX = "internal/runtime/maps."

#: What a CPU profile blames a line for, by cost category (the verdict's frame tables decide).
BLAME: dict[Cost, str] = {
    Cost.MAP_GROWTH: "map_growth",
    Cost.SLICE_GROWTH: "slice_growth",
    Cost.SYNC_MAP: "sync_map",
    Cost.SYNC_MAP_MISS: "sync_map",
    Cost.SYNC_MAP_NEWKEY: "sync_map",
}


@dataclass(frozen=True, slots=True)
class BlamedSite:
    """A line a CPU profile blames for map growth, slice growth or sync.Map churn."""

    kind: str  # a value of BLAME
    file: str  # as the profile names it
    line: int
    function: str
    share: float  # of the profile's CPU


def classifier_for(profile: Profile) -> StackClassifier:
    go = detect_go(f.name for f in profile.functions)
    table = {"classic": frametable.CLASSIC, "swiss": frametable.SWISS}.get(go.maps or "", frametable.ANY)
    return StackClassifier(table)


def parts(path: str) -> list[str]:
    return [p for p in path.replace("\\", "/").split("/") if p and p != "."]


def suffix_score(a: str, b: str) -> int:
    """How many trailing path components ``a`` and ``b`` share (0 when the names differ)."""
    pa, pb = parts(a), parts(b)
    n = 0
    while n < len(pa) and n < len(pb) and pa[-1 - n] == pb[-1 - n]:
        n += 1
    return n


class FileMatcher:
    """For a source file, the profile file names that denote it (best suffix match)."""

    def __init__(self, profile_files: Iterable[str]) -> None:
        self.by_base: dict[str, list[str]] = {}
        for f in set(profile_files):
            if f:
                self.by_base.setdefault(parts(f)[-1] if parts(f) else f, []).append(f)

    def names_for(self, source: str) -> set[str]:
        ps = parts(source)
        if not ps:
            return set()
        cands = self.by_base.get(ps[-1], [])
        if not cands:
            return set()
        scores = {c: suffix_score(c, source) for c in cands}
        best = max(scores.values())
        return {c for c, s in scores.items() if s == best}


def sample_lines(sample: Sample) -> Iterator[tuple[str, int]]:
    for loc in sample.locations:
        for ln in loc.lines:
            yield ln.function.filename, ln.line


def frames(sample: Sample) -> list[tuple[str, str, int]]:
    """(function, file, line), leaf first, inlined frames expanded."""
    return [(ln.function.name, ln.function.filename, ln.line) for loc in sample.locations for ln in loc.lines]


def is_cpu_profile(profile: Profile) -> bool:
    return profile.value_index("cpu") is not None or (
        profile.value_index("samples") is not None and profile.value_index("alloc_space") is None
        and profile.value_index("delay") is None and profile.value_index("inuse_space") is None)


def blamed_sites(profile: Profile, min_share: float) -> list[BlamedSite]:
    """Lines a CPU profile blames for growth or churn, with at least ``min_share`` of its CPU."""
    if not is_cpu_profile(profile):
        return []
    idx = main_value_index(profile)
    if idx is None:
        return []
    classifier = classifier_for(profile)
    total = 0.0
    by: dict[tuple[str, str, int, str], float] = {}
    for s in profile.samples:
        v = s.values[idx] if idx < len(s.values) else 0
        if v <= 0:
            continue
        total += v
        c = classifier.classify(s.stack())
        kind = BLAME.get(c.cost)
        if kind is None or c.site is None or not c.site.file:
            continue
        key = (kind, c.site.file, c.site.line, c.site.function)
        by[key] = by.get(key, 0.0) + v
    if not total:
        return []
    out = [BlamedSite(k, f, ln, fn, v / total) for (k, f, ln, fn), v in by.items() if v / total >= min_share]
    return sorted(out, key=lambda b: -b.share)


def main_value_index(profile: Profile) -> int | None:
    """The value that measures cost: CPU time, allocated bytes, or the last one."""
    for name in ("cpu", "alloc_space", "inuse_space", "delay", "contentions", "samples"):
        idx = profile.value_index(name)
        if idx is not None:
            return idx
    return len(profile.sample_types) - 1 if profile.sample_types else None


@dataclass(slots=True)
class ProfileCosts:
    """Per-line cumulative cost of one profile (each sample counted once per line)."""

    name: str
    unit: str
    total: int
    by_line: dict[tuple[str, int], int]
    growth_by_line: dict[tuple[str, int], int]
    matcher: FileMatcher
    #: per sample: its value and the set of its (file, line), for costs over several lines.
    samples: list[tuple[int, frozenset[tuple[str, int]]]]

    def cost_at(self, source_file: str, lines: Iterable[int]) -> tuple[int, int]:
        """(cost, growth cost) of samples touching any of ``lines`` of ``source_file``."""
        names = self.matcher.names_for(source_file)
        if not names:
            return 0, 0
        wanted = {(n, ln) for n in names for ln in lines}
        cost = sum(v for v, at in self.samples if at & wanted)
        growth = sum(self.growth_by_line.get(w, 0) for w in wanted)
        return cost, growth


def profile_costs(profile: Profile) -> ProfileCosts | None:
    idx = main_value_index(profile)
    if idx is None:
        return None
    vt = profile.sample_types[idx]
    classifier = classifier_for(profile) if is_cpu_profile(profile) else None
    by_line: dict[tuple[str, int], int] = {}
    growth: dict[tuple[str, int], int] = {}
    samples: list[tuple[int, frozenset[tuple[str, int]]]] = []
    files: set[str] = set()
    total = 0
    for s in profile.samples:
        v = s.values[idx] if idx < len(s.values) else 0
        if v <= 0:
            continue
        total += v
        at = frozenset(sample_lines(s))
        samples.append((v, at))
        for key in at:
            by_line[key] = by_line.get(key, 0) + v
            files.add(key[0])
        if classifier is not None:
            c = classifier.classify(s.stack())
            if c.cost is Cost.MAP_GROWTH and c.site is not None:
                site = (c.site.file, c.site.line)
                growth[site] = growth.get(site, 0) + v
    return ProfileCosts(vt.type, vt.unit, total, by_line, growth, FileMatcher(files), samples)
