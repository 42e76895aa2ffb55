"""Before and after: did a change move the cost it was meant to remove?

Each side is analysed on its own (the full pipeline); the comparison then asks, cause by cause
and site by site, whether the CPU share moved by more than sampling noise. A share is a count
of CPU samples, so the test is exact on counts (``compare_stats``): a 95 % interval of the
difference, a Fisher p-value, and "significant" only when the interval excludes zero.

The measure of a cause is the CPU share of its own runtime frames (map growth: the growth
functions; GC pressure: background GC plus assists), taken from every side's share table, so
it exists even on the side where the cause fell below its reporting threshold. Causes that
are not CPU shares (lock delay, crashes) are compared by their scores when both sides have
them, without a test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mapdoctor.analysis.compare_stats import Delta, compare_counts
from mapdoctor.analysis.findings import Cause, CauseKind, Diagnosis
from mapdoctor.formats.detect import LoadResult

#: The share-table keys that measure each CPU cause.
CAUSE_SHARES: dict[CauseKind, tuple[str, ...]] = {
    CauseKind.MAP_GROWTH: ("map_growth",),
    CauseKind.SLICE_GROWTH: ("slice_growth",),
    CauseKind.SYNC_MAP: ("sync_map",),
    CauseKind.GC_PRESSURE: ("gc", "gc_assist"),
    CauseKind.CPU_STARVATION: ("scheduler",),
}

#: Below this many CPU samples on a side, only large changes can be told from noise.
MIN_SAMPLES = 100
#: Profile durations or CPU use further apart than this factor make the sides hard to compare.
DURATION_RATIO = 2.0
LOAD_RATIO = 1.5


@dataclass(slots=True)
class SideFacts:
    """What a side is, beyond its diagnosis: for the comparability warnings."""

    build_ids: list[str] = field(default_factory=list)
    cpu_seconds: float = 0.0  # duration of the CPU profile
    cpu_cores: float = 0.0  # CPU used per wall second while profiled
    kinds: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, loaded: LoadResult) -> SideFacts:
        facts = cls(kinds=sorted({i.kind.value for i in loaded.inputs}))
        for item in loaded.inputs:
            p = item.profile
            if p is None:
                continue
            for m in p.mappings[:1]:  # the main binary comes first
                if m.build_id and m.build_id not in facts.build_ids:
                    facts.build_ids.append(m.build_id)
            cpu = p.value_index("cpu")
            if cpu is not None and p.duration_nanos and not facts.cpu_seconds:
                facts.cpu_seconds = p.duration_nanos / 1e9
                facts.cpu_cores = p.total(cpu) / p.duration_nanos
        return facts


@dataclass(slots=True)
class CauseChange:
    kind: str
    before: float | None
    after: float | None
    delta: float | None
    ci: tuple[float, float] | None
    significant: bool
    p_value: float | None = None
    status_before: str | None = None  # the cause's status on each side (None: not a cause there)
    status_after: str | None = None
    measure: str = "cpu_share"


@dataclass(slots=True)
class SiteChange:
    kind: str
    function: str
    file: str
    line: int
    before: float  # share of sampled CPU at this site (0 when absent)
    after: float
    change: str  # "appeared" | "vanished" | "kept"
    ci: tuple[float, float] | None = None
    significant: bool = False


@dataclass(slots=True)
class Comparison:
    before: Diagnosis
    after: Diagnosis
    causes: list[CauseChange]
    sites: list[SiteChange]
    requests: dict[str, Any] | None
    warnings: list[str]
    samples: tuple[int, int]


def _measured(d: Diagnosis, kind: CauseKind) -> float | None:
    keys = CAUSE_SHARES.get(kind)
    if keys is None or not d.cpu_samples:
        return None
    return sum(d.shares.get(k, 0.0) for k in keys)


def _cause_of(d: Diagnosis, kind: CauseKind) -> Cause | None:
    return next((c for c in d.causes if c.kind == kind), None)


def _test(p1: float, n1: int, p2: float, n2: int) -> Delta:
    return compare_counts(p1 * n1, n1, p2 * n2, n2)


def _cause_changes(b: Diagnosis, a: Diagnosis) -> list[CauseChange]:
    kinds = [k for k in CauseKind if _cause_of(b, k) or _cause_of(a, k)]
    kinds += [k for k in CAUSE_SHARES if k not in kinds]
    out: list[CauseChange] = []
    for kind in kinds:
        cb, ca = _cause_of(b, kind), _cause_of(a, kind)
        sb, sa = (cb.status if cb else None), (ca.status if ca else None)
        mb, ma = _measured(b, kind), _measured(a, kind)
        if mb is not None and ma is not None:
            t = _test(mb, b.cpu_samples, ma, a.cpu_samples)
            if not (cb or ca) and not t.significant and max(mb, ma) < 0.01:
                continue  # never a cause, and nothing moved: not worth a line
            out.append(CauseChange(kind.value, round(mb, 4), round(ma, 4), round(t.delta, 4),
                                   (round(t.low, 4), round(t.high, 4)), t.significant, round(t.p_value, 6), sb, sa))
        else:
            vb = cb.score if cb else None
            va = ca.score if ca else None
            delta = round(va - vb, 4) if vb is not None and va is not None else None
            out.append(CauseChange(kind.value, None if vb is None else round(vb, 4),
                                   None if va is None else round(va, 4), delta, None, False, None, sb, sa,
                                   measure="score"))
    return out


def _site_shares(d: Diagnosis) -> dict[tuple[str, str, str, int], float]:
    """Each site's share of all sampled CPU (a site's share is of its cause's own amount)."""
    out: dict[tuple[str, str, str, int], float] = {}
    for c in d.causes:
        base = _measured(d, c.kind)
        if base is None:
            continue
        for s in c.sites:
            out[(c.kind.value, s.function, s.file, s.line)] = s.share * base
    return out


def _site_changes(b: Diagnosis, a: Diagnosis) -> list[SiteChange]:
    sb, sa = _site_shares(b), _site_shares(a)
    out: list[SiteChange] = []
    for key in [*sb, *(k for k in sa if k not in sb)]:
        vb, va = sb.get(key, 0.0), sa.get(key, 0.0)
        change = "kept" if key in sb and key in sa else ("vanished" if key in sb else "appeared")
        t = _test(vb, b.cpu_samples, va, a.cpu_samples)
        kind, function, file, line = key
        out.append(SiteChange(kind, function, file, line, round(vb, 4), round(va, 4), change,
                              (round(t.low, 4), round(t.high, 4)), t.significant))
    return out


def _requests(b: Diagnosis, a: Diagnosis) -> dict[str, Any] | None:
    rb = (b.timeline or {}).get("requests")
    ra = (a.timeline or {}).get("requests")
    if not rb or not ra:
        return None

    def side(r: dict[str, Any]) -> dict[str, Any]:
        slow = r.get("slow") or {}
        return {"count": r.get("count"), "p50_ms": r.get("p50_ms"), "p99_ms": r.get("p99_ms"),
                "max_ms": r.get("max_ms"), "slow_breakdown": slow.get("breakdown", {})}

    out: dict[str, Any] = {"before": side(rb), "after": side(ra)}
    for q in ("p50_ms", "p99_ms"):
        x, y = rb.get(q), ra.get(q)
        if x and y:
            out[q.replace("_ms", "_ratio")] = round(y / x, 3)
    return out


def _warnings(b: Diagnosis, a: Diagnosis, fb: SideFacts | None, fa: SideFacts | None) -> list[str]:
    w: list[str] = []
    gb, ga = b.go.version or b.go.range, a.go.version or a.go.range
    if gb and ga and gb != ga and ((b.go.version and a.go.version) or b.go.maps != a.go.maps):
        w.append(f"different Go versions ({gb} before, {ga} after): the runtime's own costs differ between "
                 "releases")
    if b.go.maps and a.go.maps and b.go.maps != a.go.maps:
        w.append(f"different map implementations ({b.go.maps} maps before, {a.go.maps} maps after)")
    for name, d in (("before", b), ("after", a)):
        if d.cpu_samples < MIN_SAMPLES:
            w.append(f"only {d.cpu_samples} CPU samples {name}: small changes cannot be told from noise "
                     "(profile longer, e.g. -seconds 30)")
        if d.partial:
            w.append(f"the {name} side is partial: {'; '.join(d.notes[:2])}")
    if fb is None or fa is None:
        return w
    if fb.build_ids and fa.build_ids and not set(fb.build_ids) & set(fa.build_ids):
        w.append(f"different binaries (build ID {fb.build_ids[0][:16]} before, {fa.build_ids[0][:16]} after): "
                 "expected when comparing a fix; otherwise other changes in the build count too")
    if fb.cpu_seconds and fa.cpu_seconds:
        r = max(fb.cpu_seconds, fa.cpu_seconds) / min(fb.cpu_seconds, fa.cpu_seconds)
        if r > DURATION_RATIO:
            w.append(f"CPU profiles of different lengths ({fb.cpu_seconds:.1f} s before, {fa.cpu_seconds:.1f} s "
                     "after)")
    if fb.cpu_cores and fa.cpu_cores:
        r = max(fb.cpu_cores, fa.cpu_cores) / min(fb.cpu_cores, fa.cpu_cores)
        if r > LOAD_RATIO:
            w.append(f"different load: {fb.cpu_cores:.2f} CPU cores busy before, {fa.cpu_cores:.2f} after; shares "
                     "shift with load (a fix that also cut CPU use shows here too)")
    if fb.kinds != fa.kinds:
        only_b = sorted(set(fb.kinds) - set(fa.kinds))
        only_a = sorted(set(fa.kinds) - set(fb.kinds))
        parts = ([f"only before: {', '.join(only_b)}"] if only_b else []) + \
                ([f"only after: {', '.join(only_a)}"] if only_a else [])
        w.append(f"different inputs ({'; '.join(parts)}): evidence present on one side only is not compared")
    return w


def compare(before: Diagnosis, after: Diagnosis, *, before_facts: SideFacts | None = None,
            after_facts: SideFacts | None = None) -> Comparison:
    """Compare two diagnoses (each side's facts, when given, add comparability warnings)."""
    return Comparison(before, after, _cause_changes(before, after), _site_changes(before, after),
                      _requests(before, after), _warnings(before, after, before_facts, after_facts),
                      (before.cpu_samples, after.cpu_samples))


def significant_drops(c: Comparison) -> Sequence[CauseChange]:
    return [x for x in c.causes if x.significant and (x.delta or 0) < 0]
