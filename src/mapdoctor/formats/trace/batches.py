"""Layer 1: the trace header and the stream of batches (``internal/trace/batch.go``).

A trace is a 16-byte header followed by batches. Every batch starts with
``EventBatch`` (or ``ExperimentalBatch``), then varints ``gen, m, time, size`` and
``size`` bytes of events, except the one-byte in-band ``EndOfGeneration`` (Go 1.26+).
Batches are never copied: a :class:`Batch` holds offsets into the trace bytes.
"""

from __future__ import annotations

import mmap
import re
from typing import Final, NamedTuple

from mapdoctor.formats.trace import spec

#: What the layers read a trace from: the file's bytes, a decompressed buffer, or a
#: read-only map of the file. They only index, slice, search and ``len`` it. (The compiled
#: build checks argument types at run time, so the annotation has to say all three.)
TraceBytes = bytes | bytearray | mmap.mmap

HEADER_LEN: Final = 16
_HEADER = re.compile(rb"go 1\.(\d{1,4}) trace\x00\x00\x00")


class TraceFormatError(Exception):
    """Malformed trace data at a byte offset; ``truncated`` when the data simply ended."""

    def __init__(self, offset: int, reason: str, *, truncated: bool = False) -> None:
        super().__init__(f"offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason
        self.truncated = truncated


def looks_like_header(data: TraceBytes) -> bool:
    return _HEADER.match(data) is not None


def read_header(data: TraceBytes) -> int:
    """The trace version ``N`` of a ``go 1.N trace`` header; raises for other versions."""
    m = _HEADER.match(data)
    if m is None:
        if len(data) < HEADER_LEN and b"go 1.".startswith(data[:5]):
            raise TraceFormatError(len(data), "trace header is truncated", truncated=True)
        raise TraceFormatError(0, "bad file format: not a Go execution trace")
    version = int(m.group(1))
    if version in spec.OLD_FORMAT_VERSIONS or (version < spec.SUPPORTED_VERSIONS[0]):
        raise TraceFormatError(
            0, f"unsupported trace version go 1.{version}: only the generation-based format of "
            "Go 1.22 and later is supported (re-capture with Go >= 1.22)")
    if version not in spec.SUPPORTED_VERSIONS:
        raise TraceFormatError(0, f"unknown or unsupported trace version go 1.{version}")
    return version


def uvarint(data: TraceBytes | memoryview, pos: int, end: int, what: str) -> tuple[int, int]:
    """Decode one unsigned LEB128 varint as Go's ``binary.Uvarint`` does (at most 10 bytes)."""
    x = 0
    shift = 0
    start = pos
    while True:
        if pos >= end:
            raise TraceFormatError(pos, f"unexpected end of data reading {what}", truncated=True)
        b = data[pos]
        pos += 1
        if b < 0x80:
            if pos - start == 10 and b > 1:
                raise TraceFormatError(start, f"varint overflows 64 bits reading {what}")
            return x | (b << shift), pos
        x |= (b & 0x7F) << shift
        shift += 7
        if pos - start >= 10:
            raise TraceFormatError(start, f"varint overflows 64 bits reading {what}")


class Batch(NamedTuple):
    """One batch: events of thread ``m`` in generation ``gen``, at ``data[start:end]``."""

    gen: int
    m: int
    time: int  # base timestamp, in trace clock ticks
    start: int
    end: int
    exp: int  # experiment ID, 0 for regular batches
    offset: int  # offset of the batch header in the trace

    def first_byte(self, data: TraceBytes) -> int:
        return data[self.start] if self.end > self.start else -1


#: ``m`` of the synthetic batch standing for an in-band end-of-generation marker.
NO_THREAD: Final = -1


def read_batch(data: TraceBytes, pos: int) -> Batch:
    """The batch whose header starts at ``pos`` (which must be before the end of data)."""
    end = len(data)
    typ = data[pos]
    if typ == spec.EV_END_OF_GENERATION:
        return Batch(0, NO_THREAD, 0, pos, pos + 1, 0, pos)
    if typ != spec.EV_EVENT_BATCH and typ != spec.EV_EXPERIMENTAL_BATCH:
        raise TraceFormatError(pos, f"expected batch event, got event {typ}")
    p = pos + 1
    exp = 0
    if typ == spec.EV_EXPERIMENTAL_BATCH:
        if p >= end:
            raise TraceFormatError(p, "unexpected end of data reading batch experiment", truncated=True)
        exp = data[p]
        p += 1
    gen, p = uvarint(data, p, end, "batch generation")
    m, p = uvarint(data, p, end, "batch thread ID")
    ts, p = uvarint(data, p, end, "batch timestamp")
    size, p = uvarint(data, p, end, "batch size")
    if m >= 1 << 63:
        m -= 1 << 64  # thread IDs are int64: all bits set is NoThread (-1)
    if size > spec.MAX_BATCH_SIZE:
        raise TraceFormatError(pos, f"invalid batch size {size}, maximum is {spec.MAX_BATCH_SIZE}")
    if p + size > end:
        raise TraceFormatError(
            end, f"batch at offset {pos} is truncated: wanted {size} bytes, found {end - p}", truncated=True)
    return Batch(gen, m, ts, p, p + size, exp, pos)
