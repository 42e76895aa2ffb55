"""Layer 3: the ordering state machine (``internal/trace/order.go`` and ``reader.go``).

Events arrive as one stream per thread (M). The ordering merges them into a single
stream, earliest first, while emulating the scheduler: which goroutine and P each
thread holds, each goroutine's and P's status and sequence number, GC and range
state. An event whose preconditions do not hold yet (a ``GoStart`` before the
``GoUnblock`` of another thread made the goroutine runnable) waits while other
threads advance; one that can never hold is a broken trace.

The rules for each event type live in :mod:`.handlers`; this module drives them:
the frontier of per-thread cursors, CPU sample injection, timestamp fix-up and the
hand-off of emitted events to a sink.

Emitted events are *records* ``(code, time, g, p, m, args, base)``: ``code`` is the
wire event type (:data:`SYNC` for sync points), ``time`` the final nanosecond
timestamp (strictly increasing, as Go's reader makes it), ``g, p, m`` the execution
context *before* the event (-1 for none), and the event's arguments after the
timestamp are ``args[base + 2], args[base + 3], ...`` (``base`` is -2 when ``args``
is a fresh list). Records are handed to a sink in chunks.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from typing import Final, Protocol

from mapdoctor.formats.trace import spec
from mapdoctor.formats.trace.accounting import (
    A_KEY,
    A_QUEUED,
    A_SEG,
    A_SLOT,
    A_T,
    ACC_CHAN,
    ACC_LOCK,
    ACC_RUN,
    ACC_RUNNABLE,
    SEG_QUEUED,
    SEG_WAITING,
    Accounting,
)
from mapdoctor.formats.trace.batches import TraceBytes, TraceFormatError
from mapdoctor.formats.trace.cursor import Cursor, heap_insert, heap_remove, heap_update, sift_down
from mapdoctor.formats.trace.generations import Generation
from mapdoctor.formats.trace.handlers import make_handlers
from mapdoctor.formats.trace.spec import EV_GO_BLOCK, EV_GO_START, EV_GO_UNBLOCK
from mapdoctor.formats.trace.states import (
    G_RUNNABLE,
    G_RUNNING,
    G_WAITING,
    NO_THREAD,
    SYNC,
    OrderingError,
    Record,
)
from mapdoctor.model.trace import SchedWaits

_OUT_OF_RANGE = "timestamp or value out of range (corrupt trace)"
#: Records per chunk handed to the sink.
CHUNK: Final = 8192
#: Scheduling waits gathered as 64-bit values before they move to the compact columns: a
#: busy generation has millions, which held whole would double the memory they take.
WAITS_CHUNK: Final = 1 << 16

class SinkFailure(Exception):
    """Wraps an exception raised by a sink, so it is not mistaken for bad trace data."""

    def __init__(self, err: BaseException) -> None:
        super().__init__(repr(err))
        self.err = err


class EventSink(Protocol):
    def begin_generation(self, gen: Generation) -> None: ...

    def consume(self, records: list[Record]) -> None:
        """Take a chunk of records; the list is reused after the call returns."""

    def finish(self) -> None: ...


class Ordering:
    """Orders the events of successive generations of one trace into one stream."""

    def __init__(self, version: int, *, emit_all: bool = True) -> None:
        self.version = version
        #: With False, the records of the most frequent scheduling events (GoStart, GoBlock,
        #: GoUnblock, GoStop, ProcStart, ProcStop, GoSyscallBegin, GoSyscallEnd) are not
        #: emitted, only counted in ``quiet_counts``; what the analysis needs from them
        #: (scheduling latency, block reasons) is accumulated here instead.
        self.emit_all = emit_all
        self.quiet_counts = [0] * 256
        self.block_reasons: dict[str, int] = {}
        self.block_reasons_by_id: defaultdict[int, int] = defaultdict(int)
        # Scheduling latency: when a goroutine started running after waiting as runnable.
        # The hot paths append to these two (bound methods: they stay the same arrays);
        # every WAITS_CHUNK waits, and at each generation's end, they move to the compact ``waits``.
        # Unsigned: times only grow, so neither is ever negative, and an unsigned array converts
        # an int directly where a signed one parses it as an argument (several times the cost).
        self.wait_start = array("Q")
        self.wait_ns = array("Q")
        self.waits = SchedWaits()
        self.table = spec.table_for(version)
        self.initial_gen = 0
        self.syncs = 0
        self.last_ts = 0
        self.out: list[Record] = []
        self.mstates: dict[int, list[int]] = {}
        self.gstates: dict[int, list[int]] = {}
        self.extra_strings: list[str] = [""]
        #: Per-goroutine time accounting between boundaries (see :mod:`.accounting`).
        self.acct = Accounting()
        self.end_offset = 0  # where the last generation read ends (for error messages)
        self._handlers, self._set_gen = make_handlers(self)

    # -- driving -----------------------------------------------------------------------

    def run_generation(self, gen: Generation, data: TraceBytes, sink: EventSink) -> None:
        """Emit every event of ``gen`` to ``sink``, preceded by the generation's sync."""
        if self.initial_gen == 0:
            self.initial_gen = gen.number
        self._set_gen(gen)
        gen.extra_strings = self.extra_strings
        sink.begin_generation(gen)
        frontier: list[Cursor] = []
        mstates = self.mstates
        for m in gen.batch_ms:
            ms = mstates.get(m)
            if ms is None:
                ms = [-1, -1]
                if m != NO_THREAD:  # events of no thread have no lasting context
                    mstates[m] = ms
            c = Cursor(m, ms, gen.batches[m], data, gen.freq, self.table)
            if c.first():
                heap_insert(frontier, c)
        self.syncs += 1
        self._emit_sync(gen.ns(gen.min_ts), at_gen_start=True)
        try:
            self._merge(frontier, gen, sink)
        except SinkFailure as failure:
            if isinstance(failure.err, OverflowError):  # a sink storing absurd values
                offset = frontier[0].offset() if frontier else gen.end
                raise TraceFormatError(offset, f"generation {gen.number}: {_OUT_OF_RANGE}") from None
            raise failure.err from None
        except OrderingError as err:
            offset = frontier[0].offset() if frontier else gen.end
            raise TraceFormatError(offset, f"generation {gen.number}: {err}") from None
        except OverflowError:
            offset = frontier[0].offset() if frontier else gen.end
            raise TraceFormatError(offset, f"generation {gen.number}: {_OUT_OF_RANGE}") from None
        except (IndexError, KeyError, ValueError) as err:
            offset = frontier[0].offset() if frontier else gen.end
            raise TraceFormatError(offset, f"generation {gen.number}: malformed event ({err!r})") from None
        self.end_offset = gen.end
        self._fold_waits()
        self.acct.end_generation(self.gstates)
        self._flush(sink, gen.end)
        for sid, n in self.block_reasons_by_id.items():
            reason = gen.strings.get(sid, "")
            self.block_reasons[reason] = self.block_reasons.get(reason, 0) + n
        self.block_reasons_by_id.clear()

    def finish(self, sink: EventSink) -> None:
        """Emit the closing sync point."""
        self.syncs += 1
        self._emit_sync(0, at_gen_start=False)
        self._flush(sink, self.end_offset)
        self._fold_waits()  # those of a generation cut off
        sink.finish()

    def _fold_waits(self) -> None:
        self.waits.extend(self.wait_start, self.wait_ns)
        del self.wait_start[:]
        del self.wait_ns[:]

    def _flush(self, sink: EventSink, offset: int) -> None:
        if not self.out:
            return
        try:
            sink.consume(self.out)
        except OverflowError:
            raise TraceFormatError(offset, _OUT_OF_RANGE) from None
        self.out.clear()

    def _emit_sync(self, t: int, *, at_gen_start: bool) -> None:
        if t <= self.last_ts:
            t = self.last_ts + 1
        self.last_ts = t
        # A second argument marks the sync of a generation start (it has clock data).
        self.out.append((SYNC, t, -1, -1, -1, [self.syncs, 1] if at_gen_start else [self.syncs], -2))

    def _merge(self, frontier: list[Cursor], gen: Generation, sink: EventSink) -> None:
        """Go's ``ReadEvent`` loop, restructured into runs: while the thread at the head
        of the frontier stays the earliest (no other thread's next event nor a CPU sample
        comes strictly before its next event), its events are handled from local
        variables without touching the heap. The outcome is event for event the same."""
        handlers = self._handlers
        out = self.out
        consume = sink.consume
        samples = gen.cpu_samples
        nsamples = len(samples)
        si = 0
        last = self.last_ts
        width = self.table.timed_width
        freq = gen.freq
        # Below 2**47 ticks an integral frequency gives exactly Go's float product.
        ifreq = int(freq) if freq.is_integer() and freq < 1 << 16 else 0
        never = 1 << 127
        quiet = not self.emit_all
        gstates = self.gstates
        gen_no = gen.number
        strings, stacks = gen.strings, gen.stacks
        blocks = self.block_reasons_by_id
        wait_start, wait_ns = self.wait_start.append, self.wait_ns.append
        pending_waits = self.wait_ns
        acct = self.acct
        bcls, waits = acct.bcls, acct.waits
        kbits = acct.kbits
        n_start = n_block = n_unblock = 0
        next_sample = samples[0][0] if samples else never
        try:
            while True:
                if next_sample < never and (not frontier or next_sample < frontier[0].time):
                    t, sm, sp, sg, sstack = samples[si]
                    si += 1
                    next_sample = samples[si][0] if si < nsamples else never
                    if sstack not in gen.stacks:
                        raise OrderingError(f"found invalid stack ID {sstack} for event CPUSample")
                    last = t if t > last else last + 1
                    out.append((spec.EV_CPU_SAMPLE, last, sg, sp, sm, [sstack], -2))
                    continue
                if not frontier:
                    break
                c = frontier[0]
                nf = len(frontier)
                # The run goes on while the next event is not later than both children
                # (clim, the earlier of them is child ck) and the next CPU sample.
                if nf > 2:
                    clim, ck = frontier[1].time, 1
                    if frontier[2].time < clim:
                        clim, ck = frontier[2].time, 2
                elif nf == 2:
                    clim, ck = frontier[1].time, 1
                else:
                    clim, ck = never, 0
                lim = next_sample if next_sample < clim else clim
                if not c.fast or not ifreq:
                    lim = -1  # the general path (Cursor.step) for every event
                vals, i, typ, t, m, ms, nv = c.vals, c.i, c.typ, c.time, c.m, c.ms, c.n
                while True:
                    ft = t if t > last else last + 1
                    # The three events that make up most of any busy trace, inlined when
                    # their records are not wanted: same checks and effects as the
                    # go_start/go_block/go_unblock handlers, minus the call; anything
                    # unusual goes to the handler.
                    if (typ == EV_GO_START and quiet and (st := gstates.get(vals[i + 2])) is not None
                            and st[0] == G_RUNNABLE and st[1] == gen_no and st[2] + 1 == vals[i + 3]
                            and ms[0] == -1 and ms[1] != -1):
                        st[0] = G_RUNNING
                        st[2] = vals[i + 3]
                        # Runnable until now (every runnable goroutine accounts to that slot);
                        # runnable since st[3] when that is known, which is then also st[A_T].
                        if st[3] >= 0:
                            d = ft - st[3]
                            wait_start(ft)
                            wait_ns(d)
                            st[3] = -1
                            st[ACC_RUNNABLE] += d
                        else:
                            st[ACC_RUNNABLE] += ft - st[A_T]
                        st[A_T] = ft
                        st[A_SLOT] = ACC_RUN
                        if st[A_SEG] == SEG_QUEUED:  # acct.opened, inlined
                            st[A_SEG] = ft
                            st[A_QUEUED] = ft - st[A_QUEUED]
                            st[ACC_RUNNABLE] = 0
                        ms[0] = vals[i + 2]
                        n_start += 1
                        last = ft
                    elif (typ == EV_GO_BLOCK and quiet and ms[1] != -1 and (st := gstates.get(ms[0])) is not None
                            and st[0] == G_RUNNING and vals[i + 2] in strings and vals[i + 3] in stacks):
                        st[0] = G_WAITING
                        blocks[vals[i + 2]] += 1
                        key = vals[i + 2] << kbits | vals[i + 3]
                        bc = bcls.get(key)
                        if bc is None:
                            bc = acct.classify(key)
                        st[ACC_RUN] += ft - st[A_T]  # a running goroutine accounts to that slot
                        st[A_T] = ft
                        st[A_KEY] = key
                        if bc > 255:
                            acct.close(ms[0], st, ft, bc >> 8)
                        st[A_SLOT] = bc & 255
                        ms[0] = -1
                        n_block += 1
                        last = ft
                    elif (typ == EV_GO_UNBLOCK and quiet and (st := gstates.get(vals[i + 2])) is not None
                            and st[0] == G_WAITING and st[1] == gen_no and st[2] + 1 == vals[i + 3]
                            and vals[i + 4] in stacks):
                        st[0] = G_RUNNABLE
                        st[2] = vals[i + 3]
                        st[3] = ft
                        slot = st[A_SLOT]
                        st[A_SLOT] = ACC_RUNNABLE
                        if st[A_SEG] == SEG_WAITING:
                            st[A_SEG] = SEG_QUEUED
                            st[A_QUEUED] = ft
                            st[slot] = 0
                        else:
                            d = ft - st[A_T]
                            st[slot] += d
                            if ACC_LOCK <= slot <= ACC_CHAN:  # adjacent slots: lock or channel
                                w = waits.get(st[A_KEY])
                                if w is None:
                                    waits[st[A_KEY]] = [d, 1]
                                else:
                                    w[0] += d
                                    w[1] += 1
                        st[A_T] = ft
                        n_unblock += 1
                        last = ft
                    else:
                        try:
                            n = handlers[typ](vals, i, ft, m, ms)
                        except OrderingError:
                            c.i, c.typ, c.time = i, typ, t
                            raise
                        if not n:
                            c.i, c.typ, c.time = i, typ, t
                            last = self._advance_other(frontier, last)
                            break
                        last = ft + n - 1
                    j = i + width[typ]
                    if j < nv and lim >= 0:
                        nxt = vals[j]
                        if nxt < 128 and 0 < width[nxt] <= nv - j:
                            t += vals[j + 1] * ifreq
                            if t <= lim:
                                i, typ = j, nxt
                                continue
                            c.i, c.typ, c.time = j, nxt, t
                            if t > clim:
                                # heapUpdate(0) inlined: Go's min3 moves the root to child ck,
                                # the earlier child (the first one on a tie).
                                frontier[0] = frontier[ck]
                                frontier[ck] = c
                                k = 2 * ck + 1
                                if k < nf:
                                    if k + 1 < nf:
                                        sift_down(frontier, ck)
                                    elif frontier[k].time < t:
                                        frontier[ck] = frontier[k]
                                        frontier[k] = c
                            break
                    # General path: end of batch, unusual data, or no fast path.
                    if m == NO_THREAD:
                        ms[0] = ms[1] = -1
                    c.i, c.typ, c.time = i, typ, t
                    if c.step():
                        heap_update(frontier, 0)
                    else:
                        heap_remove(frontier, 0)
                    break
                if len(out) >= CHUNK:
                    try:
                        consume(out)
                    except Exception as err:
                        raise SinkFailure(err) from err
                    out.clear()
                if len(pending_waits) >= WAITS_CHUNK:
                    self._fold_waits()
        finally:
            self.last_ts = last
            self.quiet_counts[EV_GO_START] += n_start
            self.quiet_counts[EV_GO_BLOCK] += n_block
            self.quiet_counts[EV_GO_UNBLOCK] += n_unblock

    def _advance_other(self, frontier: list[Cursor], last: int) -> int:
        """The earliest event cannot advance yet: try the others in time order (rare)."""
        frontier.sort(key=lambda cur: cur.time)  # stable, like Go's insertion sort on small frontiers
        for k in range(1, len(frontier)):
            c = frontier[k]
            t = c.time
            ft = t if t > last else last + 1
            n = self._handlers[c.typ](c.vals, c.i, ft, c.m, c.ms)
            if n:
                if c.m == NO_THREAD:
                    c.ms[0] = c.ms[1] = -1
                if c.step():
                    heap_update(frontier, k)
                else:
                    heap_remove(frontier, k)
                return ft + n - 1
        lines = [f"M {c.m} [{self.table.name(c.typ)} time={c.time}]" for c in frontier]
        raise OrderingError("broken trace: failed to advance: " + "; ".join(lines))
