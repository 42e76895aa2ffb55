"""Sum a set of weighted stacks into costs per category and per user site."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mapdoctor.analysis.classify import Classified, StackClassifier
from mapdoctor.analysis.frametable import Cost
from mapdoctor.analysis.stats import Share
from mapdoctor.model.profile import Location, Profile
from mapdoctor.model.stack import Frame

#: (function, file, line) of a user frame.
SiteKey = tuple[str, str, int]


def tally() -> defaultdict[Any, float]:
    return defaultdict(float)


def most_common(d: dict[Any, float], n: int) -> list[tuple[Any, float]]:
    return sorted(d.items(), key=lambda kv: -kv[1])[:n]


def site_key(frame: Frame | None) -> SiteKey:
    if frame is None:
        return ("(runtime)", "", 0)
    return (frame.function, frame.file, frame.line)


@dataclass(slots=True)
class CostBreakdown:
    """Where one measure (CPU time, lock delay, ...) went."""

    source: str
    unit: str
    total: float = 0.0
    #: How many events the amounts rest on: CPU samples (the profile's sample counts, not its
    #: distinct stacks), contention events, goroutines. Intervals are computed from these.
    samples: float = 0.0
    duration_ns: int = 0
    #: What ``samples`` counts (a key of ``stats.UNITS``).
    count_unit: str = "samples"
    by_cost: defaultdict[Cost, float] = field(default_factory=tally)
    #: ``samples`` per category (CPU samples in map growth, ...).
    count_by_cost: defaultdict[Cost, float] = field(default_factory=tally)
    by_site: defaultdict[Cost, defaultdict[SiteKey, float]] = field(default_factory=lambda: defaultdict(tally))
    #: GC assist time by the category the assist interrupted.
    assist_charged_to: defaultdict[Cost, float] = field(default_factory=tally)
    assist_by_site: defaultdict[SiteKey, float] = field(default_factory=tally)
    decided_by: defaultdict[Cost, defaultdict[str, float]] = field(default_factory=lambda: defaultdict(tally))

    def add(self, c: Classified, weight: float, count: float = 1.0) -> None:
        self.total += weight
        self.samples += count
        self.by_cost[c.cost] += weight
        self.count_by_cost[c.cost] += count
        key = site_key(c.site)
        self.by_site[c.cost][key] += weight
        if c.decided_by:
            self.decided_by[c.cost][c.decided_by] += weight
        if c.cost is Cost.GC_ASSIST:
            self.assist_charged_to[c.charged_to] += weight
            self.assist_by_site[key] += weight

    def merge(self, other: CostBreakdown) -> None:
        self.total += other.total
        self.samples += other.samples
        self.duration_ns += other.duration_ns
        _add(self.by_cost, other.by_cost)
        _add(self.count_by_cost, other.count_by_cost)
        for cost, sites in other.by_site.items():
            _add(self.by_site[cost], sites)
        _add(self.assist_charged_to, other.assist_charged_to)
        _add(self.assist_by_site, other.assist_by_site)
        for cost, names in other.decided_by.items():
            _add(self.decided_by[cost], names)

    def share(self, cost: Cost) -> float:
        return self.by_cost[cost] / self.total if self.total else 0.0

    def share_of(self, costs: Iterable[Cost]) -> float:
        return sum(self.share(c) for c in costs)

    def interval(self, costs: Iterable[Cost], extra: float = 0.0) -> Share:
        """The share of ``costs`` (plus ``extra``, a share measured on the same samples) with
        its 95 % interval over this breakdown's sample count."""
        return Share.of_fraction(self.share_of(costs) + extra, self.samples, self.count_unit)

    def sites_of(self, costs: Iterable[Cost]) -> defaultdict[SiteKey, float]:
        out: defaultdict[SiteKey, float] = tally()
        for c in costs:
            _add(out, self.by_site.get(c, {}))
        return out

    def top_sites(self, cost: Cost, n: int = 5) -> list[tuple[SiteKey, float]]:
        return most_common(self.by_site[cost], n)

    def scale(self, factor: float) -> None:
        """Multiply every amount (sample counts -> nanoseconds)."""
        self.total *= factor
        tallies: list[dict[Any, float]] = [self.by_cost, self.assist_charged_to, self.assist_by_site,
                                           *self.by_site.values(), *self.decided_by.values()]
        for d in tallies:
            for k in d:
                d[k] *= factor


def _add(into: dict[Any, float], other: dict[Any, float]) -> None:
    for k, v in other.items():
        into[k] = into.get(k, 0.0) + v


def profile_breakdown(
    profile: Profile, value_index: int, classifier: StackClassifier, source: str, unit: str,
    count_index: int | None = None, count_unit: str = "samples",
) -> CostBreakdown:
    """Classify every sample of ``profile`` by its stack, weighted by one of its values.

    ``count_index`` names the value that counts events (a CPU profile's ``samples``, a lock
    profile's ``contentions``); without it each record counts once."""
    out = CostBreakdown(source=source, unit=unit, duration_ns=profile.duration_nanos, count_unit=count_unit)
    frames_of: dict[int, tuple[Frame, ...]] = {}
    by_stack: dict[tuple[int, ...], Classified] = {}

    def frames(loc: Location) -> tuple[Frame, ...]:
        got = frames_of.get(loc.id)
        if got is None:
            got = frames_of[loc.id] = loc.frames()
        return got

    for sample in profile.samples:
        weight = sample.values[value_index]
        if not weight:
            continue
        key = tuple(loc.id for loc in sample.locations)
        c = by_stack.get(key)
        if c is None:
            stack = [f for loc in sample.locations for f in frames(loc)]
            c = by_stack[key] = classifier.classify(stack)
        out.add(c, float(weight), float(sample.values[count_index]) if count_index is not None else 1.0)
    return out


def stacks_breakdown(
    stacks: Iterable[tuple[Sequence[Frame], float]], classifier: StackClassifier, source: str, unit: str
) -> CostBreakdown:
    """Same for stacks from elsewhere (execution-trace CPU samples, goroutine dumps)."""
    out = CostBreakdown(source=source, unit=unit)
    cache: dict[tuple[Frame, ...], Classified] = {}
    for stack, weight in stacks:
        key = tuple(stack)
        c = cache.get(key)
        if c is None:
            c = cache[key] = classifier.classify(key)
        out.add(c, weight)
    return out
