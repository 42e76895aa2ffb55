"""Drives the layers over a whole trace: header, generations, ordering, sink.

Mirrors Go's ``trace.Reader``: generations are read and ordered one at a time, so
memory stays bounded by one generation whatever the trace size. A trace that stops
in the middle of a generation (cut off, or the traced process died) still yields its
complete generations; the outcome says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapdoctor.formats.limits import release_before
from mapdoctor.formats.trace.batches import HEADER_LEN, TraceBytes, TraceFormatError, read_header
from mapdoctor.formats.trace.generations import read_generations
from mapdoctor.formats.trace.ordering import EventSink, Ordering


@dataclass(slots=True)
class ReadOutcome:
    version: int
    ordering: Ordering
    generations: int = 0
    partial: bool = False
    notes: list[str] = field(default_factory=list)


def read_trace(data: TraceBytes, sink: EventSink, *, emit_all: bool = True) -> ReadOutcome:
    """Feed the events of ``data`` to ``sink``; raises :class:`TraceFormatError`.

    With ``emit_all`` False the bulk scheduling events are only counted and summarised
    by the ordering (see :class:`Ordering`), which makes reading much cheaper.

    Problems in the data after at least one complete generation, in the last
    generation, are reported as a partial outcome rather than an error when they are
    what a cut-off trace looks like.
    """
    version = read_header(data)
    if len(data) == HEADER_LEN:
        raise TraceFormatError(HEADER_LEN, "the trace has no events (header only)", truncated=True)
    order = Ordering(version, emit_all=emit_all)
    outcome = ReadOutcome(version, order)
    gens = read_generations(data, version)
    while True:
        try:
            gen = next(gens, None)
        except TraceFormatError as err:
            if not err.truncated or outcome.generations == 0:
                raise
            _cut_off(outcome, err)
            break
        if gen is None:
            break
        # Reading the generation's structure touched every batch; the ordering reads each
        # batch again as it gets to it (and gives its pages back), so none need stay now.
        release_before(data, gen.end)
        try:
            order.run_generation(gen, data, sink)
        except TraceFormatError as err:
            # Before Go 1.26 nothing marks a generation's end, so a trace cut at a batch
            # boundary shows up as a last generation that does not add up.
            if version >= 26 or gen.end < len(data) or outcome.generations == 0:
                raise
            _cut_off(outcome, err)
            break
        outcome.generations += 1
        # Nothing before a generation's end is read again: a mapped trace gives those pages back.
        release_before(data, gen.end)
    order.finish(sink)
    return outcome


def _cut_off(outcome: ReadOutcome, err: TraceFormatError) -> None:
    outcome.partial = True
    outcome.notes.append(
        f"trace is incomplete (cut off, or the process stopped mid-generation): read "
        f"{outcome.generations} complete generation(s) and the events before the cut; "
        f"offset {err.offset}: {err.reason}")
