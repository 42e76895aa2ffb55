"""Text dumps of the ordered event stream, in the format of ``go tool trace -d=parsed``.

For debugging and conformance checks against Go's reader; not used by the analysis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from mapdoctor.formats.trace.events import KIND_OF_CODE, Event, Kind
from mapdoctor.formats.trace.generations import Generation
from mapdoctor.formats.trace.reader import ReadOutcome, read_trace
from mapdoctor.formats.trace.states import Record


class LineSink:
    """Passes the Go-style text of every event to ``emit``; with ``stacks`` also the
    ``Stack=`` / ``TransitionStack=`` blocks that ``go tool trace -d=parsed`` prints."""

    def __init__(self, emit: Callable[[str], None], *, stacks: bool = False) -> None:
        self._emit = emit
        self._stacks = stacks
        self._gen: Generation | None = None

    def begin_generation(self, gen: Generation) -> None:
        self._gen = gen

    def consume(self, records: list[Record]) -> None:
        gen = self._gen
        assert gen is not None
        for rec in records:
            ev = Event(rec, gen)
            text = ev.line()
            if self._stacks:
                text += self._stack_text(ev)
            self._emit(text)

    def _stack_text(self, ev: Event) -> str:
        gen = ev.gen
        parts = []
        if ev.kind == Kind.StateTransition:
            sid = ev.state_transition().stack_id
            if sid:
                parts.append("\nTransitionStack=\n" + self._frames(gen, sid))
        sid = ev.stack_id()
        if sid:
            parts.append("\nStack=\n" + self._frames(gen, sid))
        return "".join(parts)

    def _frames(self, gen: Generation, sid: int) -> str:
        lines = []
        for pc in gen.stacks.get(sid, ()):
            func_id, file_id, line = gen.frames[pc]
            lines.append(f"\t{gen.strings.get(func_id, '')} @ {pc:#x}\n\t\t{gen.strings.get(file_id, '')}:{line}")
        return "\n".join(lines) + "\n"

    def finish(self) -> None:
        pass


class KindTimeDigest:
    """Per-kind event counts and a SHA-256 over the ``(kind, time)`` sequence.

    The digest is over lines ``"<Kind> <Time>\\n"``, so the same value can be computed
    from ``go tool trace -d=parsed`` output with a few lines of shell or Python.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self._hash = hashlib.sha256()

    def begin_generation(self, gen: Generation) -> None:
        pass

    def consume(self, records: list[Record]) -> None:
        names = [k.name for k in Kind]
        chunk = []
        counts = self.counts
        for rec in records:
            name = names[KIND_OF_CODE[rec[0]]]
            counts[name] = counts.get(name, 0) + 1
            chunk.append(f"{name} {rec[1]}\n")
        self._hash.update("".join(chunk).encode())

    def finish(self) -> None:
        pass

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def digest_go_dump(text: str) -> tuple[dict[str, int], str]:
    """Counts and digest, as :class:`KindTimeDigest` computes them, of Go's
    ``go tool trace -d=parsed`` output."""
    counts: dict[str, int] = {}
    h = hashlib.sha256()
    for line in text.splitlines():
        if not line.startswith("M="):
            continue
        fields = line.split(" ", 5)
        kind, time = fields[3], fields[4].removeprefix("Time=")
        counts[kind] = counts.get(kind, 0) + 1
        h.update(f"{kind} {time}\n".encode())
    return counts, h.hexdigest()


def dump_lines(data: bytes, *, stacks: bool = False) -> tuple[list[str], ReadOutcome]:
    """All events of a trace as Go's reader prints them (raises ``TraceFormatError``)."""
    lines: list[str] = []
    outcome = read_trace(data, LineSink(lines.append, stacks=stacks))
    return lines, outcome
