"""Bulk varint decoding: a whole batch of events at a time.

Decoding batch by batch in one tight loop costs far less per value than calling a
decoder per field. A batch of regular events decodes to the flat sequence
``type, dt, arg1, ..., type, dt, ...``: event type bytes are below 0x80, so they read
as one-byte varints. Experimental event types (>= 0x80) do not, and
:func:`decode_events_exact` handles batches holding them.
"""

from __future__ import annotations

from mapdoctor.formats.trace.batches import TraceBytes, TraceFormatError, uvarint


def decode_all(data: TraceBytes, start: int, end: int) -> list[int] | None:
    """All varints of ``data[start:end]``, or None if the bytes end inside a varint or
    one is longer than 10 bytes (the caller then re-reads exactly to report where)."""
    if end <= start:
        return []
    if data[end - 1] >= 0x80:
        return None
    out: list[int] = []
    # out.append, not a bound-method alias: the compiled build appends to a list natively,
    # and CPython 3.11 specialises the call as well.
    it = iter(data[start:end])
    for b in it:
        if b < 0x80:
            out.append(b)
            continue
        x = b & 0x7F
        shift = 7
        for b2 in it:
            if b2 < 0x80:
                if shift == 63 and b2 > 1:
                    return None  # more than 64 bits, as Go's binary.Uvarint rejects
                out.append(x | (b2 << shift))
                break
            x |= (b2 & 0x7F) << shift
            shift += 7
        if shift > 63:
            return None
    return out


def decode_events_exact(data: TraceBytes, start: int, end: int, width: tuple[int, ...],
                        names: tuple[str, ...]) -> tuple[list[int], list[int]]:
    """Decode a batch of timed events byte by byte, raw type bytes included.

    Returns the flat ``type, dt, args...`` values and the byte offset of each event;
    raises :class:`TraceFormatError` at the offset of the first bad event.
    """
    vals: list[int] = []
    offsets: list[int] = []
    pos = start
    while pos < end:
        offsets.append(pos)
        typ = data[pos]
        n = width[typ]
        if n <= 0:
            if names[typ]:
                raise TraceFormatError(pos, f"found event without a timestamp: type={names[typ]}")
            raise TraceFormatError(pos, f"found invalid event type: {typ}")
        vals.append(typ)
        pos += 1
        for k in range(n - 1):
            what = "timestamp" if k == 0 else "event argument"
            v, pos = uvarint(data, pos, end, what)
            vals.append(v)
    return vals, offsets
