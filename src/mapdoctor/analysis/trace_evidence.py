"""Evidence from execution traces: CPU samples (when no CPU profile) and the timeline."""

from __future__ import annotations

from typing import Any

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.costs import CostBreakdown, stacks_breakdown
from mapdoctor.analysis.timeline import Span, TimelineInput, build_timeline
from mapdoctor.formats.detect import LoadedInput
from mapdoctor.model.trace import ExecutionTrace

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
    regions = [r for r in trace.regions if r.start_ns is not None and r.end_ns is not None]
    if regions:
        inp.requests = [Span(r.start_ns or 0, r.end_ns or 0, r.name, r.goroutine) for r in regions]
    else:
        inp.requests = [Span(t.start_ns, t.end_ns, t.name, t.goroutine) for t in trace.tasks
                        if t.start_ns is not None and t.end_ns is not None]
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
    inp = _spans(best.trace)
    inp.source = f"trace {best.path}"
    section, lines = build_timeline(inp, classifier)
    return section, lines, notes
