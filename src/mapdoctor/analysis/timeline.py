"""When did it happen: put growth, pauses, assists, GC cycles and requests on one timeline.

A CPU share says map growth is expensive; this says whether it coincided with the pauses
and the slow requests. Everything is computed on fixed bins of the execution trace's time.
Stop-the-world pauses that the collection itself caused (a goroutine profile, reading
memory stats, starting or stopping the trace) are labelled and kept out of the figures.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.frametable import SHARE_OF, Cost
from mapdoctor.model.stack import Frame

#: STW reasons that measurement causes (runtime stwReasonStrings), not the program.
COLLECTION_STW = frozenset({
    "goroutine profile", "goroutine profile cleanup", "all goroutines stack trace", "read mem stats",
    "start trace", "stop trace", "write heap dump", "read metrics", "GOMAXPROCS", "start CPU profile",
    "flight recorder",
})
#: Bins on the timeline (fewer for short traces: a bin is at least MIN_BIN_NS).
TARGET_BINS = 200
MIN_BIN_NS = 1_000_000
#: A GC cycle "follows growth" when growth ran within this long before it began.
LEAD_WINDOW_NS = 20_000_000


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str = ""
    goroutine: int = -1

    @property
    def duration(self) -> int:
        return max(0, self.end - self.start)


@dataclass(slots=True)
class TimelineInput:
    """What the timeline needs from a trace, in trace nanoseconds."""

    start: int
    end: int
    samples: list[tuple[int, int, Sequence[Frame]]] = field(default_factory=list)  # (time, goroutine, stack)
    stw: list[Span] = field(default_factory=list)  # label = reason
    assists: list[Span] = field(default_factory=list)
    gc_cycles: list[Span] = field(default_factory=list)
    requests: list[Span] = field(default_factory=list)  # user regions/tasks (label = name)
    source: str = ""
    partial: bool = False


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _spread(spans: Sequence[Span], t0: int, width: int, nbins: int) -> list[float]:
    """Nanoseconds of ``spans`` falling into each bin."""
    out = [0.0] * nbins
    for s in spans:
        if s.end <= s.start:
            continue
        first = max(0, (s.start - t0) // width)
        last = min(nbins - 1, (s.end - 1 - t0) // width)
        for b in range(first, last + 1):
            out[b] += _overlap(s.start, s.end, t0 + b * width, t0 + (b + 1) * width)
    return out


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def stance(ratio: float | None) -> str:
    """How a with/without-growth ratio bears on map growth as the cause."""
    if ratio is None:
        return "neither supports nor argues against"
    if ratio >= 1.2:
        return "supports"
    if ratio <= 0.83:
        return "argues against"
    return "neither supports nor argues against"


def build_timeline(inp: TimelineInput, classifier: StackClassifier) -> tuple[dict[str, Any], list[str]]:
    """The ``timeline`` JSON section and the evidence lines it supports."""
    span = max(1, inp.end - inp.start)
    width = max(MIN_BIN_NS, -(-span // TARGET_BINS))
    nbins = -(-span // width)
    t0 = inp.start

    growth_bins = [0] * nbins
    sample_bins = [0] * nbins
    cat_bins: list[dict[str, int]] = [{} for _ in range(nbins)]
    growth_by_g: dict[int, list[int]] = {}
    for t, g, stack in inp.samples:
        b = min(nbins - 1, max(0, (t - t0) // width))
        c = classifier.classify(stack).cost
        sample_bins[b] += 1
        key = SHARE_OF[c]
        cat_bins[b][key] = cat_bins[b].get(key, 0) + 1
        if c is Cost.MAP_GROWTH:
            growth_bins[b] += 1
            growth_by_g.setdefault(g, []).append(t)
    for times in growth_by_g.values():
        times.sort()

    own_stw = [s for s in inp.stw if s.label in COLLECTION_STW]
    prog_stw = [s for s in inp.stw if s.label not in COLLECTION_STW]
    stw_bins = _spread(prog_stw, t0, width, nbins)
    assist_bins = _spread(inp.assists, t0, width, nbins)

    with_g = [b for b in range(nbins) if growth_bins[b]]
    without_g = [b for b in range(nbins) if not growth_bins[b] and sample_bins[b]]

    def mean(values: list[float], bins: list[int]) -> float:
        return sum(values[b] for b in bins) / len(bins) if bins else 0.0

    stw_with, stw_without = mean(stw_bins, with_g), mean(stw_bins, without_g)
    assist_with, assist_without = mean(assist_bins, with_g), mean(assist_bins, without_g)

    # GC cycles that began shortly after growth, against how often any moment is "after growth".
    growth_times = sorted(t for ts in growth_by_g.values() for t in ts)
    def after_growth(t: int) -> bool:
        i = bisect.bisect_right(growth_times, t)
        return i > 0 and t - growth_times[i - 1] <= LEAD_WINDOW_NS
    led = sum(1 for c in inp.gc_cycles if after_growth(c.start))
    probes = [t0 + (k * span) // 100 for k in range(100)]
    base = sum(1 for t in probes if after_growth(t)) / len(probes)

    # Requests: how much of each request's goroutine's samples were growth.
    req: dict[str, Any] | None = None
    lines: list[str] = []
    if inp.requests:
        durations = sorted(r.duration for r in inp.requests)
        p50 = durations[len(durations) // 2]
        p99 = durations[min(len(durations) - 1, (len(durations) * 99) // 100)]
        def growth_in(r: Span) -> int:
            ts = growth_by_g.get(r.goroutine, [])
            return bisect.bisect_left(ts, r.end) - bisect.bisect_left(ts, r.start)
        slow = [r for r in inp.requests if r.duration >= p99]
        rest = [r for r in inp.requests if r.duration < p99]
        slow_hit = sum(1 for r in slow if growth_in(r)) / len(slow) if slow else 0.0
        rest_hit = sum(1 for r in rest if growth_in(r)) / len(rest) if rest else 0.0
        req = {
            "count": len(inp.requests), "p50_ms": round(p50 / 1e6, 3), "p99_ms": round(p99 / 1e6, 3),
            "max_ms": round(durations[-1] / 1e6, 3),
            "slow_with_growth": round(slow_hit, 3), "others_with_growth": round(rest_hit, 3),
        }
        if growth_times:
            hit = stance(slow_hit / rest_hit if rest_hit else (2.0 if slow_hit else None))
            lines.append(f"{hit} ({len(slow)} slowest and {len(rest)} other requests): "
                         f"{100 * slow_hit:.0f}% of the slowest 1% of requests (>= {p99 / 1e6:.2f} ms) were caught "
                         f"in map growth by a CPU sample, vs {100 * rest_hit:.0f}% of the others [{inp.source}]")

    worst = sorted(range(nbins), key=lambda b: -(stw_bins[b] + assist_bins[b]))[:3]
    worst_out = []
    for b in worst:
        if not (stw_bins[b] + assist_bins[b]):
            continue
        top = max(cat_bins[b].items(), key=lambda kv: kv[1])[0] if cat_bins[b] else None
        worst_out.append({"start_ms": round(b * width / 1e6, 3), "stw_ms": round(stw_bins[b] / 1e6, 3),
                          "assist_ms": round(assist_bins[b] / 1e6, 3), "growth_samples": growth_bins[b],
                          "top_category": top})

    if with_g and (prog_stw or inp.assists):
        r_stw, r_assist = _ratio(stw_with, stw_without), _ratio(assist_with, assist_without)
        both = _ratio(stw_with + assist_with, stw_without + assist_without)
        lines.append(
            f"{stance(both)} ({len(with_g) + len(without_g)} busy bins): time bins with map growth "
            f"({len(with_g)} of {len(with_g) + len(without_g)} busy bins of {width / 1e6:.0f} ms) carry "
            f"{assist_with / 1e6:.2f} ms of mark assists and {stw_with / 1e6:.3f} ms "
            f"of stop-the-world each, vs {assist_without / 1e6:.2f} ms and {stw_without / 1e6:.3f} ms without"
            + (f" ({r_assist}x assists)" if r_assist else "") + (f" ({r_stw}x STW)" if r_stw else "")
            + f" [{inp.source}]")
    if inp.gc_cycles and growth_times:
        lead = led / len(inp.gc_cycles)
        gc_stance = stance(lead / base if base else (2.0 if lead else None))
        lines.append(f"{gc_stance} ({len(inp.gc_cycles)} GC cycles): "
                     f"{led} of {len(inp.gc_cycles)} GC cycles began within {LEAD_WINDOW_NS // 1_000_000} ms "
                     f"after map growth (a random moment: {100 * base:.0f}%)")

    section: dict[str, Any] = {
        "source": inp.source, "partial": inp.partial,
        "span_ms": round(span / 1e6, 3), "bin_ms": round(width / 1e6, 3), "bins": nbins,
        "cpu_samples": sum(sample_bins), "growth_samples": sum(growth_bins),
        "bins_with_growth": len(with_g), "busy_bins_without_growth": len(without_g),
        "stw": {"count": len(prog_stw), "total_ms": round(sum(s.duration for s in prog_stw) / 1e6, 3),
                "in_growth_bins_ms": round(sum(stw_bins[b] for b in with_g) / 1e6, 3),
                "per_bin_with_growth_ms": round(stw_with / 1e6, 4),
                "per_bin_without_growth_ms": round(stw_without / 1e6, 4),
                "caused_by_collection": {"count": len(own_stw),
                                         "total_ms": round(sum(s.duration for s in own_stw) / 1e6, 3),
                                         "reasons": sorted({s.label for s in own_stw})}},
        "assists": {"count": len(inp.assists), "total_ms": round(sum(s.duration for s in inp.assists) / 1e6, 3),
                    "in_growth_bins_ms": round(sum(assist_bins[b] for b in with_g) / 1e6, 3),
                    "per_bin_with_growth_ms": round(assist_with / 1e6, 4),
                    "per_bin_without_growth_ms": round(assist_without / 1e6, 4)},
        "gc_cycles": {"count": len(inp.gc_cycles), "after_growth": led, "base_rate": round(base, 3)},
        "requests": req,
        "worst_windows": worst_out,
        # Per-bin values, for plotting: CPU samples, growth samples, STW and assist milliseconds.
        "series": {
            "samples": sample_bins,
            "growth_samples": growth_bins,
            "stw_ms": [round(v / 1e6, 3) for v in stw_bins],
            "assist_ms": [round(v / 1e6, 3) for v in assist_bins],
        },
    }
    return section, lines
