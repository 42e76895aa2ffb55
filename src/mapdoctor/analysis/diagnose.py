"""The analysis pipeline: loaded inputs in, one Diagnosis out.

A sequence of small processors fills an :class:`Evidence`; :func:`verdict.decide` turns it
into the Diagnosis. Each processor reads only the inputs it understands.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from mapdoctor.analysis import frametable
from mapdoctor.analysis.allocations import alloc_evidence
from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.cpu import cpu_from_profiles
from mapdoctor.analysis.dumps import dump_evidence
from mapdoctor.analysis.evidence import Evidence, GCEvidence
from mapdoctor.analysis.findings import Diagnosis, InputSummary
from mapdoctor.analysis.goinfo import detect_go
from mapdoctor.analysis.locks import lock_waits
from mapdoctor.analysis.plots import LazyPlots
from mapdoctor.analysis.provenance import mixed_program_notes
from mapdoctor.analysis.runbook import runbook
from mapdoctor.analysis.source_advice import attach_capacity, attach_source_findings
from mapdoctor.analysis.trace_evidence import trace_cpu, trace_lock_waits, trace_timeline
from mapdoctor.analysis.verdict import decide
from mapdoctor.formats.detect import LoadedInput, LoadResult

_TABLES = {"classic": frametable.CLASSIC, "swiss": frametable.SWISS}


def _function_names(inputs: Sequence[LoadedInput]) -> Iterator[str]:
    for item in inputs:
        if item.profile is not None:
            yield from (f.name for f in item.profile.functions)
        if item.dump is not None:
            for g in item.dump.goroutines:
                yield from (f.function for f in g.stack)


def _gc_evidence(inputs: Sequence[LoadedInput]) -> GCEvidence | None:
    for item in inputs:
        t = item.gctrace
        if t is None or not t.cycles:
            continue
        span = t.cycles[-1].at_seconds - t.cycles[0].at_seconds
        return GCEvidence(
            source=item.path, cycles=len(t.cycles), forced=t.forced_cycles(), seconds=span,
            gc_cpu_percent=float(t.cycles[-1].gc_cpu_percent), stw_ms_total=t.total_stw_ms(),
            stw_ms_max=t.max_stw_ms(), assist_cpu_ms=sum(c.cpu_ms.assist for c in t.cycles),
            mark_cpu_ms=sum(c.cpu_ms.mark_total for c in t.cycles),
            heap_goal_mb_max=float(max(c.heap_goal_mb for c in t.cycles)),
        )
    return None


def diagnose(loaded: LoadResult, *, notes: Sequence[str] = (), source_dir: Path | None = None) -> Diagnosis:
    """Analyse everything that was loaded. ``notes`` carry caveats from collection."""
    inputs = loaded.inputs
    ev = Evidence(notes=[*notes, *(n for n in loaded.notes if n not in notes)])
    ev.inputs = [InputSummary(i.path, i.kind.value) for i in inputs]
    for err in loaded.skipped:
        ev.notes.append(f"skipped {err}")
        ev.partial = True
    ev.notes.extend(mixed_program_notes(inputs))

    ev.go = detect_go(_function_names(inputs))
    classifier = StackClassifier(_TABLES.get(ev.go.maps or "", frametable.ANY))

    ev.cpu = cpu_from_profiles(inputs, classifier)
    if ev.cpu is None:
        ev.cpu = trace_cpu(inputs, classifier)
    if ev.cpu is not None and ev.cpu.duration_ns and ev.cpu.unit == "nanoseconds":
        ev.cpu_cores = ev.cpu.total / ev.cpu.duration_ns
    ev.locks, lock_notes = lock_waits(inputs, classifier)
    if ev.locks is None:
        ev.locks = trace_lock_waits(inputs, classifier)
    ev.notes.extend(lock_notes)
    ev.allocs = alloc_evidence(inputs)
    ev.dumps, ev.crashes = dump_evidence(inputs, classifier)
    ev.gc = _gc_evidence(inputs)
    ev.timeline, timeline_lines, timeline_notes = trace_timeline(inputs, classifier)
    ev.notes.extend(timeline_notes)
    if ev.timeline is not None and ev.timeline.get("partial"):
        ev.partial = True
    if ev.cpu is None and not ev.crashes:
        ev.notes.append("no CPU profile or trace CPU samples among the inputs: map growth can only be inferred "
                        "indirectly")
    diagnosis = decide(ev, timeline_lines)
    attach_capacity(diagnosis, inputs)
    if source_dir is not None:
        attach_source_findings(diagnosis, source_dir, inputs)
    diagnosis.runbook = runbook(diagnosis, inputs, source_dir)
    diagnosis.plots = LazyPlots(diagnosis, inputs, classifier, source_dir)
    return diagnosis
