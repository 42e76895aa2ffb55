"""Go execution traces (``runtime/trace``, ``go test -trace``, ``/debug/pprof/trace``).

Reads the generation-based format of Go 1.22 and later (headers ``go 1.22 trace``,
``go 1.23 trace`` — also written by Go 1.24 —, ``go 1.25 trace``, ``go 1.26 trace`` —
also written by Go 1.27). The layers follow Go's own reader (``internal/trace``):

* :mod:`.spec` — the event table per format version;
* :mod:`.batches` — header and batches; :mod:`.varints` — bulk varint decoding;
* :mod:`.generations` — strings, stacks, CPU samples, clock per generation;
* :mod:`.cursor`, :mod:`.states`, :mod:`.handlers`, :mod:`.ordering` — the merge of
  per-thread streams with the scheduler state machine that validates every transition;
* :mod:`.events` — Go-like event views; :mod:`.build` — the analysis model;
  :mod:`.dump` — ``go tool trace -d=parsed`` style text; :mod:`.reader` — the driver;
* :mod:`.native` — whether the hot modules run compiled (mypyc) or as their source.

See docs/TRACE.md.
"""

from __future__ import annotations

# Before any decoder module: chooses between their compiled build and their sources.
from mapdoctor.formats.trace import native  # noqa: F401  # isort: skip

# isort: split
from mapdoctor.errors import InputError
from mapdoctor.formats.gcpause import gc_paused
from mapdoctor.formats.trace.batches import TraceBytes, TraceFormatError, looks_like_header
from mapdoctor.formats.trace.build import TraceBuilder
from mapdoctor.formats.trace.reader import ReadOutcome, read_trace
from mapdoctor.model.trace import ExecutionTrace

__all__ = ["looks_like_trace", "parse_trace", "read_trace"]


def looks_like_trace(data: bytes) -> bool:
    """Whether ``data`` starts like a Go execution trace (any format version)."""
    return looks_like_header(data)


def parse_trace(data: TraceBytes, path: str, *, keep_transitions: bool = False) -> ExecutionTrace:
    """Parse a whole execution trace into the analysis model.

    ``keep_transitions`` also keeps every goroutine state transition (memory grows with
    the trace; scheduling latency is always kept in compact form). Raises
    :class:`InputError` for anything but a readable trace; a trace cut off
    mid-generation is returned with ``partial=True`` and a note.

    ``data`` may be a read-only map of the file (see ``formats.limits.map_file``): the
    layers only index, slice, search and ``len`` it, which a map does as bytes do, and the
    pages of each generation are given back once it is read.
    """
    builder = TraceBuilder(keep_transitions=keep_transitions)
    try:
        with gc_paused():
            outcome: ReadOutcome = read_trace(data, builder, emit_all=keep_transitions)
            return builder.result(outcome)
    except TraceFormatError as err:
        raise InputError(path, "trace", str(err)) from None
    except RecursionError:
        raise InputError(path, "trace", "trace structure too deeply nested") from None
