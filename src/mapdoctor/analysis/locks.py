"""Lock contention evidence from block and mutex profiles.

The block profile says where goroutines waited (the ``Lock`` call: the line to change); the
mutex profile says who held the lock while others waited (the ``Unlock`` side). Both also
record waits that are not locks (channels, select, sync.Cond): only lock waits count here.

A delay only means something over a window. ``?seconds=N`` deltas carry theirs; profiles that
``go test -mutexprofile/-blockprofile`` (or ``pprof.Lookup(...).WriteTo``) write carry none:
they cover the run. When a CPU profile of the same run is among the inputs (it ends within a
minute of the lock profile being written) its window is used; failing that, an execution
trace's. Otherwise the delay cannot be compared with anything and is dropped with a note.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.costs import CostBreakdown, profile_breakdown
from mapdoctor.analysis.frametable import Cost
from mapdoctor.formats.detect import InputKind, LoadedInput

#: A lock profile without a duration belongs to the CPU profile's run when it was written
#: within this long of the CPU profile's end.
SAME_RUN_NS = 60_000_000_000


@dataclass(frozen=True, slots=True)
class Window:
    """The span another input of the same run covers."""

    start_ns: int  # wall clock (pprof time_nanos); 0 when unknown (a trace)
    duration_ns: int
    source: str


def run_window(inputs: list[LoadedInput]) -> list[Window]:
    """Windows of the CPU profiles (wall clock) and traces (duration only) among the inputs."""
    out: list[Window] = []
    for item in inputs:
        prof = item.profile
        if item.kind is InputKind.CPU and prof is not None and prof.duration_nanos > 0:
            out.append(Window(prof.time_nanos, prof.duration_nanos, f"CPU profile {item.path}"))
    for item in inputs:
        t = item.trace
        if t is not None and t.end_ns > t.start_ns:
            out.append(Window(0, t.end_ns - t.start_ns, f"trace {item.path}"))
    return out


def _same_run(written_ns: int, windows: list[Window]) -> Window | None:
    for w in windows:
        if w.start_ns and written_ns and abs(written_ns - (w.start_ns + w.duration_ns)) <= SAME_RUN_NS:
            return w
    # A trace has no wall clock to compare with: take it only when it is the one window there is.
    traces = [w for w in windows if not w.start_ns]
    if traces and len(windows) == len(traces):
        return max(traces, key=lambda w: w.duration_ns)
    return None


def lock_waits(inputs: list[LoadedInput], classifier: StackClassifier) -> tuple[CostBreakdown | None, list[str]]:
    notes: list[str] = []
    by_kind: dict[InputKind, CostBreakdown] = {}
    windows = run_window(inputs)
    for item in inputs:
        if item.kind not in (InputKind.BLOCK, InputKind.MUTEX, InputKind.CONTENTION) or item.profile is None:
            continue
        prof = item.profile
        idx = prof.value_index("delay")
        if idx is None:
            continue
        part = profile_breakdown(prof, idx, classifier, source=f"{item.kind.value} profile {item.path}",
                                 unit=prof.sample_types[idx].unit, count_index=prof.value_index("contentions"),
                                 count_unit="events")
        if not part.total:
            continue
        if not prof.duration_nanos:
            window = _same_run(prof.time_nanos, windows)
            if window is None:
                notes.append(f"{item.path}: {item.kind.value} profile has no duration (it covers the whole "
                             "run, not a ?seconds= delta) and no CPU profile or trace of the same run is "
                             "among the inputs: its delays cannot be compared with CPU time")
            else:
                part.duration_ns = window.duration_ns
                part.source += (f", over the {window.duration_ns / 1e9:.1f} s window of {window.source} "
                                "(the lock profile carries no duration of its own)")
        prev = by_kind.get(item.kind)
        if prev is None:
            by_kind[item.kind] = part
        else:
            prev.merge(part)
    # The block profile names the waiting line; the mutex profile is the fallback (services often
    # enable only SetMutexProfileFraction), also when the block profile holds no lock waits.
    order = [by_kind[k] for k in (InputKind.BLOCK, InputKind.CONTENTION, InputKind.MUTEX) if k in by_kind]
    for part in order:
        if lock_delay(part) > 0:
            return part, notes
    return (order[0] if order else None), notes


def lock_delay(part: CostBreakdown) -> float:
    """Delay spent in lock operations (not channels, select or sync.Cond)."""
    return part.by_cost[Cost.LOCK] + part.by_cost[Cost.LOCK_WAIT]


def lock_events(part: CostBreakdown) -> float:
    return part.count_by_cost[Cost.LOCK] + part.count_by_cost[Cost.LOCK_WAIT]
