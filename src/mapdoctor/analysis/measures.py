"""One vocabulary for the numbers a report shows: what a cause's score measures, and its parts.

A cause's score is comparable across causes, but it is not always a share of CPU: lock
contention from a delay profile is a wait ratio, from a goroutine dump a share of busy
goroutines; a map-growth score adds the mark assists and GC work its allocations cause to the
CPU spent in growth itself. Shown side by side unlabelled, "78.9 %" in the verdict and
"59.2 %" in the CPU breakdown read as a contradiction. Every reporter takes its words from
here, so a number is always shown with its unit, its sample size and, when it is a sum, its parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mapdoctor.analysis.findings import Cause, CauseKind


class Measure(StrEnum):
    #: Share of sampled CPU (CPU profile or trace CPU samples).
    CPU = "cpu_share"
    #: Goroutine time waiting on locks / (waiting + running), from a mutex or block profile.
    WAIT_RATIO = "wait_ratio"
    #: Share of a goroutine dump's busy goroutines that wait on (or hand over) a lock.
    GOROUTINES = "goroutine_share"
    #: Share of the slowest requests' wall time (execution trace).
    SLOW_REQUESTS = "slow_request_time"
    #: Half the share of allocated bytes in doubling blocks: a rough score when no CPU data exists.
    ALLOC_BYTES = "alloc_bytes"
    #: The program crashed: not a share (score 1.0).
    CRASH = "crash"


#: How each measure is named next to its number, and the sentence that explains it.
LABEL = {
    Measure.CPU: "of CPU",
    Measure.WAIT_RATIO: "wait ratio",
    Measure.GOROUTINES: "of busy goroutines",
    Measure.SLOW_REQUESTS: "of the slowest requests' time",
    Measure.ALLOC_BYTES: "rough score from allocation sizes",
    Measure.CRASH: "crash",
}

EXPLAIN = {
    Measure.CPU: "share of sampled CPU",
    Measure.WAIT_RATIO: ("time goroutines spent waiting on locks / (that + CPU time running), from the "
                         "delay profile; not a share of CPU"),
    Measure.GOROUTINES: "goroutines waiting on or handing over a lock, of the busy goroutines in the dump",
    Measure.SLOW_REQUESTS: "share of the slowest 1 % of requests' wall time, from the execution trace",
    Measure.ALLOC_BYTES: ("half the share of allocated bytes that come in doubling blocks: no CPU data "
                          "to measure the cost"),
    Measure.CRASH: "the program crashed; the score is 1 by definition",
}

_BY_UNIT = {"samples": Measure.CPU, "events": Measure.WAIT_RATIO, "goroutines": Measure.GOROUTINES}


def measure_of(c: Cause) -> Measure:
    if c.measure:
        return Measure(c.measure)
    if c.kind is CauseKind.CONCURRENT_MAP_WRITES:
        return Measure.CRASH
    if c.interval is not None:
        return _BY_UNIT.get(c.interval.unit, Measure.CPU)
    return Measure.CPU


@dataclass(frozen=True, slots=True)
class Part:
    key: str  # JSON name
    label: str  # words in a report
    value: float  # 0..1, in the cause's measure


def parts_of(c: Cause) -> list[Part]:
    """The terms a CPU score is the sum of; empty when the score is a single measurement."""
    if measure_of(c) is not Measure.CPU or not (c.assists or c.gc_charged):
        return []
    own = max(0.0, c.score - c.assists - c.gc_charged)
    parts = [Part("own", f"in {_OWN.get(c.kind, c.kind.value.replace('_', ' '))} itself", own)]
    if c.assists:
        parts.append(Part("assists", "GC mark assists its allocations trigger", c.assists))
    if c.gc_charged:
        parts.append(Part("gc_charged", "GC work its allocations drive", c.gc_charged))
    return parts


_OWN = {
    CauseKind.MAP_GROWTH: "map growth",
    CauseKind.SLICE_GROWTH: "slice growth",
    CauseKind.SYNC_MAP: "sync.Map",
    CauseKind.MAP_CREATION: "map creation",
}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def score_text(c: Cause) -> str:
    """``78.9% ± 5.7% of CPU (196 samples)``: the score with its unit and sample size."""
    m = measure_of(c)
    if m is Measure.CRASH:
        return "crash (not a share)"
    if c.interval is not None:
        iv = c.interval
        spread = iv.text()  # "78.9% ± 5.7% (196 samples)"
        head, _, tail = spread.partition(" (")
        return f"{head} {LABEL[m]} ({tail}"
    return f"{_pct(c.score)} {LABEL[m]}"


def parts_text(c: Cause) -> str:
    """``= 59.2% in map growth itself + 8.2% GC mark assists ... + 11.6% GC work ...`` or ''."""
    parts = parts_of(c)
    if not parts:
        return ""
    return "= " + " + ".join(f"{_pct(p.value)} {p.label}" for p in parts)


def as_dict(c: Cause) -> dict[str, object]:
    """The JSON ``measure`` object of a cause."""
    m = measure_of(c)
    out: dict[str, object] = {"unit": m.value, "label": LABEL[m], "explain": EXPLAIN[m]}
    parts = parts_of(c)
    if parts:
        out["parts"] = {p.key: round(p.value, 4) for p in parts}
    return out


#: Said under the CPU breakdown, so its shares are not read against the causes' scores.
CPU_BREAKDOWN_NOTE = ("shares of sampled CPU by what the code was doing; a cause's score above can add the "
                      "GC work its allocations cause")

#: A cause's name in a report's words.
CAUSE_TITLES: dict[str, str] = {
    "map_growth": "map growth", "slice_growth": "slice growth", "sync_map": "sync.Map churn",
    "lock_contention": "lock contention", "gc_pressure": "GC pressure",
    "concurrent_map_writes": "concurrent map writes", "map_creation": "small-map creation",
    "cpu_starvation": "CPU starvation",
}
