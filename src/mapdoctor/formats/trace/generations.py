"""Layer 2: generations (``internal/trace/generation.go``).

A trace is a sequence of self-contained generations. Each carries its own string and
stack tables, CPU samples and clock frequency (the "sync" batch), plus the per-thread
event batches that :mod:`ordering` merges. Go 1.26+ ends every generation with an
in-band ``EndOfGeneration`` marker; before that a generation ends where a batch of the
next one begins (that batch "spills" into the next generation).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, NoReturn

from mapdoctor.formats.limits import RAISE_HINT, current_budget, describe_bytes
from mapdoctor.formats.trace import spec
from mapdoctor.formats.trace.batches import HEADER_LEN, Batch, TraceBytes, TraceFormatError, read_batch, uvarint
from mapdoctor.formats.trace.varints import decode_all

#: A CPU sample: (time in ns, thread, proc, goroutine or -1, stack ID).
CPUSample = tuple[int, int, int, int, int]


@dataclass(slots=True, eq=False)
class ClockSnapshot:
    """Trace, monotonic and wall clock read at about the same instant (Go 1.25+)."""

    trace_ticks: int
    mono_ns: int
    wall_sec: int
    wall_nsec: int


@dataclass(slots=True, eq=False)
class Generation:
    """The structural data of one generation; its events stay unread in ``batches``."""

    number: int
    version: int
    offset: int  # byte offset of its first batch
    end: int = 0  # byte offset just after its last batch
    min_ts: int = 0  # smallest batch timestamp, in ticks
    freq: float = 0.0  # nanoseconds per tick
    strings: dict[int, str] = field(default_factory=lambda: {0: ""})
    stacks: dict[int, tuple[int, ...]] = field(default_factory=lambda: {0: ()})  # stack ID -> PCs
    frames: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # PC -> func ID, file ID, line
    cpu_samples: list[CPUSample] = field(default_factory=list)
    batches: dict[int, list[Batch]] = field(default_factory=dict)  # thread -> event batches
    batch_ms: list[int] = field(default_factory=list)  # threads in order of first batch
    clock: ClockSnapshot | None = None
    experimental_batches: int = 0
    #: Strings made up while ordering (task types carried over from an earlier
    #: generation); one list shared by all generations of a trace.
    extra_strings: list[str] = field(default_factory=lambda: [""])

    def ns(self, ticks: int) -> int:
        """Ticks to nanoseconds, rounded exactly like Go's ``frequency.mul``."""
        return int(ticks * self.freq)


def read_generations(data: TraceBytes, version: int) -> Iterator[Generation]:
    """The generations of a trace in order.

    Raises :class:`TraceFormatError` where the data stops making sense; when the data
    merely ends inside a generation of a pre-1.26 trace, the generation read so far is
    yielded first (as Go's reader does) and the error raised after it.
    """
    if version >= 26:
        yield from _read_delimited(data, version)
    else:
        yield from _read_with_spill(data, version)


def _read_delimited(data: TraceBytes, version: int) -> Iterator[Generation]:
    pos = HEADER_LEN
    size = len(data)
    while pos < size:
        gen: Generation | None = None
        while True:
            if pos >= size:
                raise TraceFormatError(
                    pos, "incomplete generation: the trace ends before its end-of-generation marker",
                    truncated=True)
            b = read_batch(data, pos)
            pos = b.end
            if b.m == -1 and b.start + 1 == b.end and data[b.start] == spec.EV_END_OF_GENERATION:
                if gen is None:
                    gen = Generation(0, version, b.offset)
                break
            if b.gen == 0:
                raise TraceFormatError(b.offset, "invalid generation number 0")
            if gen is None:
                gen = Generation(b.gen, version, b.offset)
            elif b.gen != gen.number:
                raise TraceFormatError(
                    b.offset, "broken trace: missing end-of-generation event, or generations are interleaved")
            _add_batch(gen, b, data)
        gen.end = pos
        _finish(gen, data)
        yield gen


def _read_with_spill(data: TraceBytes, version: int) -> Iterator[Generation]:
    pos = HEADER_LEN
    size = len(data)
    spill: Batch | None = None
    while spill is not None or pos < size:
        gen: Generation | None = None
        if spill is not None:
            gen = Generation(spill.gen, version, spill.offset)
            _add_batch(gen, spill, data)
            spill = None
        spill_err: TraceFormatError | None = None
        while pos < size:
            try:
                b = read_batch(data, pos)
            except TraceFormatError as err:
                if gen is None:
                    raise
                spill_err = err  # maybe the first batch of the next generation is bad
                break
            if b.gen == 0:
                raise TraceFormatError(b.offset, "invalid generation number 0")
            if gen is None:
                gen = Generation(b.gen, version, b.offset)
            if b.gen == gen.number + 1:
                spill = b
                pos = b.end
                break
            if b.gen != gen.number:
                raise TraceFormatError(b.offset, "generations out of order")
            _add_batch(gen, b, data)
            pos = b.end
        assert gen is not None
        gen.end = spill.offset if spill is not None else pos
        _finish(gen, data)
        yield gen
        if spill_err is not None:
            raise spill_err


def _add_batch(gen: Generation, b: Batch, data: TraceBytes) -> None:
    if gen.min_ts == 0 or b.time < gen.min_ts:
        gen.min_ts = b.time
    first = b.first_byte(data)
    if b.exp != 0:
        gen.experimental_batches += 1
    elif first == spec.EV_STRINGS:
        _add_strings(gen, b, data)
    elif first == spec.EV_STACKS:
        _add_stacks(gen, b, data)
    elif first == spec.EV_CPU_SAMPLES:
        _add_cpu_samples(gen, b, data)
    elif (first == spec.EV_FREQUENCY and gen.version < 25) or (first == spec.EV_SYNC and gen.version >= 25):
        _set_sync(gen, b, data)
    elif first == spec.EV_END_OF_GENERATION:
        raise TraceFormatError(b.offset, "unexpected end-of-generation event inside a batch")
    else:
        batches = gen.batches.get(b.m)
        if batches is None:
            gen.batch_ms.append(b.m)
            gen.batches[b.m] = [b]
        else:
            batches.append(b)


def _add_strings(gen: Generation, b: Batch, data: TraceBytes) -> None:
    pos, end = b.start + 1, b.end
    strings = gen.strings
    while pos < end:
        if data[pos] != spec.EV_STRING:
            raise TraceFormatError(pos, f"expected string event, got {data[pos]}")
        sid, pos = uvarint(data, pos + 1, end, "string ID")
        n, pos = uvarint(data, pos, end, "string length")
        if n > spec.MAX_STRING_SIZE:
            raise TraceFormatError(pos, f"invalid string size {n}, maximum is {spec.MAX_STRING_SIZE}")
        if pos + n > end:
            raise TraceFormatError(end, f"failed to read full string: wanted {n} bytes, found {end - pos}")
        if sid in strings:
            raise TraceFormatError(pos, f"multiple strings with the same ID {sid}")
        strings[sid] = data[pos:pos + n].decode("utf-8", "replace")
        pos += n


def _add_stacks(gen: Generation, b: Batch, data: TraceBytes) -> None:
    vals = decode_all(data, b.start + 1, b.end)
    if vals is None:
        _stacks_error(b, data)
    stacks, frames = gen.stacks, gen.frames
    i, n = 0, len(vals)
    while i < n:
        if vals[i] != spec.EV_STACK or i + 3 > n:
            _stacks_error(b, data)
        sid, nframes = vals[i + 1], vals[i + 2]
        i += 3
        if nframes > spec.MAX_FRAMES_PER_STACK or i + 4 * nframes > n or sid in stacks:
            _stacks_error(b, data)
        pcs = tuple(vals[i:i + 4 * nframes:4])
        for k in range(i, i + 4 * nframes, 4):
            pc = vals[k]
            if pc not in frames:
                frames[pc] = (vals[k + 1], vals[k + 2], vals[k + 3])
        stacks[sid] = pcs
        i += 4 * nframes


def _stacks_error(b: Batch, data: TraceBytes) -> NoReturn:
    """Walk a bad stack batch byte by byte to say precisely what is wrong, and where."""
    pos, end = b.start + 1, b.end
    seen: set[int] = set()
    while pos < end:
        if data[pos] != spec.EV_STACK:
            raise TraceFormatError(pos, f"expected stack event, got {data[pos]}")
        at = pos
        sid, pos = uvarint(data, pos + 1, end, "stack ID")
        nframes, pos = uvarint(data, pos, end, "stack frame count")
        if nframes > spec.MAX_FRAMES_PER_STACK:
            raise TraceFormatError(at, f"invalid stack size {nframes}, maximum is {spec.MAX_FRAMES_PER_STACK}")
        if sid in seen or sid == 0:
            raise TraceFormatError(at, f"multiple stacks with the same ID {sid}")
        seen.add(sid)
        for _ in range(4 * nframes):
            _, pos = uvarint(data, pos, end, f"frame of stack {sid}")
    raise TraceFormatError(b.offset, "malformed stack batch")


#: What one CPU sample costs once decoded (its tuple, its integers, its list slot, and the
#: sorted copy made at the end of the generation), for the memory budget.
CPU_SAMPLE_BYTES: Final = 300


#: Bytes >= 0x80 continue a varint; every other byte ends one.
_CONTINUATION = bytes(range(0x80, 0x100))


def _add_cpu_samples(gen: Generation, b: Batch, data: TraceBytes) -> None:
    samples = gen.cpu_samples
    # Counted before they are materialised, even as integers: a few MB of gzip inflate to
    # hundreds of MB of samples that share one timestamp, and decoding one such batch to a
    # list of ints alone takes more memory than the budget. The count is exact: one varint
    # ends at every byte below 0x80, and a sample is six varints.
    ends = len(bytes(data[b.start + 1:b.end]).translate(None, _CONTINUATION))
    count = len(samples) + ends // 6
    budget = current_budget()
    # The trace's own bytes are held while it decodes: they come out of the same budget.
    if count * CPU_SAMPLE_BYTES + len(data) > budget.bytes:
        raise TraceFormatError(
            b.offset, f"decoding it would need more than {describe_bytes(budget.bytes)} of memory "
                      f"(over {count:,} CPU samples in generation {gen.number}, beside the trace's own "
                      f"{describe_bytes(len(data))}), more than the budget "
                      f"per input; {RAISE_HINT}")
    vals = decode_all(data, b.start + 1, b.end)
    if vals is None or len(vals) % 6:
        raise TraceFormatError(b.offset, "malformed CPU sample batch")
    for i in range(0, len(vals), 6):
        if vals[i] != spec.EV_CPU_SAMPLE:
            raise TraceFormatError(b.offset, f"expected CPU sample event, got {vals[i]}")
        m, p, g = vals[i + 2], vals[i + 3], vals[i + 4]
        # IDs are int64 in Go: all bits set means "none" (-1); goroutine 0 means none too.
        samples.append((vals[i + 1], m - (1 << 64) if m >= 1 << 63 else m, p - (1 << 64) if p >= 1 << 63 else p,
                        g - (1 << 64) if g >= 1 << 63 else (g or -1), vals[i + 5]))


def _set_sync(gen: Generation, b: Batch, data: TraceBytes) -> None:
    pos, end = b.start, b.end
    if gen.version >= 25:
        pos += 1  # the EvSync byte
    last = b.time
    while pos < end:
        typ = data[pos]
        pos += 1
        if typ == spec.EV_FREQUENCY:
            if gen.freq != 0.0:
                raise TraceFormatError(pos - 1, "found multiple frequency events")
            f, pos = uvarint(data, pos, end, "frequency")
            if f == 0:
                raise TraceFormatError(pos - 1, "invalid frequency 0")
            gen.freq = 1.0 / (f / 1e9)  # nanoseconds per tick, computed as Go does
        elif typ == spec.EV_CLOCK_SNAPSHOT and gen.version >= 25:
            if gen.clock is not None:
                raise TraceFormatError(pos - 1, "found multiple clock snapshot events")
            dt, pos = uvarint(data, pos, end, "clock snapshot")
            mono, pos = uvarint(data, pos, end, "clock snapshot")
            sec, pos = uvarint(data, pos, end, "clock snapshot")
            nsec, pos = uvarint(data, pos, end, "clock snapshot")
            last += dt
            gen.clock = ClockSnapshot(last, mono, sec, nsec)
        else:
            raise TraceFormatError(pos - 1, f"expected frequency or clock snapshot event, got {typ}")


def _finish(gen: Generation, data: TraceBytes) -> None:
    if gen.freq == 0.0:
        raise TraceFormatError(gen.offset, f"no frequency event found in generation {gen.number}")
    if gen.version >= 25 and gen.clock is None:
        raise TraceFormatError(gen.offset, f"no clock snapshot event found in generation {gen.number}")
    strings, frames = gen.strings, gen.frames
    for sid, pcs in gen.stacks.items():
        for pc in pcs:
            func_id, file_id, _ = frames[pc]
            if func_id not in strings:
                raise TraceFormatError(gen.offset, f"found invalid func string ID {func_id} for stack {sid}")
            if file_id not in strings:
                raise TraceFormatError(gen.offset, f"found invalid file string ID {file_id} for stack {sid}")
    freq = gen.freq
    gen.cpu_samples = sorted(((int(t * freq), m, p, g, s) for t, m, p, g, s in gen.cpu_samples),
                             key=lambda smp: smp[0])
