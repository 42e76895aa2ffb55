"""Evidence from execution traces: CPU samples (when no CPU profile), lock waits (when no
block or mutex profile), the timeline and the request spans with their latency breakdown."""

from __future__ import annotations

from typing import Any

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.costs import CostBreakdown, stacks_breakdown
from mapdoctor.analysis.frametable import Cost
from mapdoctor.analysis.latency import Pause, latency_section
from mapdoctor.analysis.requests import infer_requests
from mapdoctor.analysis.timeline import COLLECTION_STW, Span, TimelineInput, build_timeline
from mapdoctor.formats.detect import LoadedInput
from mapdoctor.model.trace import WAIT_LOCK, ExecutionTrace

#: Go's CPU profiler samples at 100 Hz: each trace CPU sample stands for 10 ms.
SAMPLE_NS = 10_000_000


def _spans(trace: ExecutionTrace) -> TimelineInput:
    end_default = trace.end_ns
    start_default = trace.start_ns
    inp = TimelineInput(start=trace.start_ns, end=trace.end_ns, partial=trace.partial)
    inp.samples = [(s.time_ns, s.goroutine, s.stack) for s in trace.cpu_samples]
    inp.stw = [Span(p.start_ns, p.end_ns if p.end_ns is not None else end_default, p.reason, p.goroutine)
               for p in trace.stw_pauses]
    inp.assists = [Span(a.start_ns if a.start_ns is not None else start_default,
                        a.end_ns if a.end_ns is not None else end_default, "", a.goroutine)
                   for a in trace.mark_assists]
    inp.gc_cycles = [Span(c.start_ns, c.end_ns if c.end_ns is not None else end_default)
                     for c in trace.gc_cycles if c.start_ns is not None]
    return inp


def trace_cpu(inputs: list[LoadedInput], classifier: StackClassifier) -> CostBreakdown | None:
    """CPU costs from the traces' CPU samples (used when no CPU profile was given)."""
    out: CostBreakdown | None = None
    for item in inputs:
        t = item.trace
        if t is None or not t.cpu_samples:
            continue
        part = stacks_breakdown(((s.stack, float(SAMPLE_NS)) for s in t.cpu_samples), classifier,
                                source=f"CPU samples in trace {item.path}", unit="nanoseconds")
        part.duration_ns = max(0, t.end_ns - t.start_ns)
        if out is None:
            out = part
        else:
            out.merge(part)
    return out


def trace_timeline(inputs: list[LoadedInput], classifier: StackClassifier) -> tuple[dict[str, Any] | None,
                                                                                      list[str], list[str]]:
    """The timeline of the longest trace, its evidence lines, and notes."""
    traces = [i for i in inputs if i.trace is not None]
    if not traces:
        return None, [], []
    best = max(traces, key=lambda i: (i.trace.end_ns - i.trace.start_ns) if i.trace else 0)
    assert best.trace is not None
    notes = [f"{best.path}: {n}" for n in best.trace.notes]
    if best.trace.partial:
        notes.append(f"{best.path}: the trace is incomplete; the timeline covers its complete generations")
    tr = best.trace
    inp = _spans(tr)
    inp.source = f"trace {best.path}"
    req = infer_requests(tr)
    inp.requests = [Span(s.start, s.end, req.method or "", s.goroutine) for s in req.spans]
    section, lines = build_timeline(inp, classifier)
    if req.method is None:
        section["requests"] = None
        section["requests_absent"] = req.why_none
        notes.append(f"{best.path}: no request section: {req.why_none}")
    else:
        pauses = [Pause(p.start_ns, p.end_ns if p.end_ns is not None else tr.end_ns, p.reason, p.stack)
                  for p in tr.stw_pauses if p.reason not in COLLECTION_STW]
        found = latency_section(req, tr, classifier, pauses)
        old = section["requests"] or {}
        for key in ("slow_with_growth", "others_with_growth"):
            if key in old:
                found[key] = old[key]
        section["requests"] = found
    return section, lines, notes


def trace_lock_waits(inputs: list[LoadedInput], classifier: StackClassifier) -> CostBreakdown | None:
    """Lock contention from the traces' sync blocking alone (goroutines blocked on a
    sync.Mutex/RWMutex), for when no block or mutex profile was given: wait time per
    blocking stack, over the trace's duration."""
    out: CostBreakdown | None = None
    for item in inputs:
        t = item.trace
        if t is None:
            continue
        waits = [(w.stack, float(w.ns)) for w in t.segments.wait_sites if w.kind == WAIT_LOCK and w.ns]
        if not waits:
            continue
        part = stacks_breakdown(waits, classifier, source=f"lock waits in trace {item.path}", unit="nanoseconds")
        # Every one of these stacks blocked on a mutex: its time is lock wait, whatever frame decided.
        for cost in list(part.by_cost):
            if cost is not Cost.LOCK_WAIT:
                part.by_cost[Cost.LOCK_WAIT] += part.by_cost.pop(cost)
                for site, v in part.by_site.pop(cost, {}).items():
                    part.by_site[Cost.LOCK_WAIT][site] += v
        part.samples = sum(w.count for w in t.segments.wait_sites if w.kind == WAIT_LOCK)
        part.duration_ns = max(0, t.end_ns - t.start_ns)
        if out is None:
            out = part
        else:
            out.merge(part)
    return out
