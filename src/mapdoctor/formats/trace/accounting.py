"""Per-goroutine time accounting, kept while the ordering emulates the scheduler.

The ordering already tracks every goroutine's state; this adds, per goroutine, how long
it has spent running, runnable, in syscalls and blocked (by kind of wait) since the last
*boundary*, and emits one compact record (a :class:`~mapdoctor.model.trace.Segment` row)
at each boundary. Boundaries are the points where a server starts or finishes a unit of
work without annotating it:

* a ``net/http`` connection goroutine blocking on the network to wait for the next
  request (its stack has ``net/http.(*conn).serve`` and no handler frame), or waiting, its
  response written, for its background reader to stop;
* any goroutine blocking on a channel receive (worker pools wait for a job so);
* a goroutine's end.

Memory is one row per boundary (not per event), capped at :data:`MAX_SEGMENTS`. Wait
time on locks and channels is also summed per blocking stack (lock contention sites).

The state lives in extra slots of the ordering's per-goroutine lists (see ``A_*``/``ACC_*``)
so that the hot paths touch one list per event.
"""

from __future__ import annotations

import sys
from array import array
from typing import TYPE_CHECKING, Final

from mapdoctor.model.stack import Frame, Stack
from mapdoctor.model.trace import (
    CLOSE_CHAN,
    CLOSE_NET_IDLE,
    CLOSE_RESPONSE,
    WAIT_CHAN,
    WAIT_GC,
    WAIT_LOCK,
    WAIT_NET,
    WAIT_OTHER,
    GoroutineSegments,
    SparseColumn,
    WaitSite,
)

if TYPE_CHECKING:
    from mapdoctor.formats.trace.generations import Generation

# Slots of a goroutine's state list after the ordering's own four (status, seq gen, seq,
# runnable since). Final, like the hot constants of .spec, .states and model.trace: the
# compiled build (see .native) inlines them, where a module global costs a dictionary
# lookup at each use.
A_T: Final = 4  # time of the last accounted change
A_SLOT: Final = 5  # index of the accumulator the goroutine's time goes to now
A_KEY: Final = 6  # the current wait: reason string ID << key bits | stack ID, or -(site index + 1)
A_FN: Final = 7  # index of the goroutine's start function in ``functions`` (0 = unknown)
A_SEG: Final = 8  # start of the open segment; SEG_UNKNOWN: began before the trace; SEG_WAITING: none open
A_OPEN: Final = 9  # how the open segment began (the boundary it followed; 0 = creation or unknown)
ACC_RUN: Final = 10
ACC_RUNNABLE: Final = 11
ACC_SYSCALL: Final = 12
ACC_NET: Final = 13
ACC_LOCK: Final = 14
ACC_CHAN: Final = 15
ACC_GC: Final = 16
ACC_OTHER: Final = 17
NACC: Final = 8
A_QUEUED: Final = 18  # when woken from a boundary: the wake-up time, then how long it waited to run
A_SYS: Final = 19  # end of the goroutine's last syscall in the open segment (-1: none)
A_PREV: Final = 20  # end of the syscall before that one (-1: none): for a net/http connection,
# the response write that precedes the last (failing) read
A_SNAP: Final = 21  # NACC slots: the accumulators at A_SYS (meaningful only while A_SYS >= 0)
A_PSNAP: Final = A_SNAP + NACC  # NACC slots: the accumulators at A_PREV (while A_PREV >= 0)
SLOTS: Final = A_PSNAP + NACC
SEG_UNKNOWN: Final = -1
SEG_WAITING: Final = -2  # no segment open: waiting at a boundary
SEG_QUEUED: Final = -3  # woken from a boundary, not yet running: the segment opens when it runs
OPEN_CREATE: Final = 4
#: What a segment's close leaves in slots A_SEG to A_PREV, per boundary kind (one slice
#: assignment): no segment open, opened by this boundary when it reopens, accumulators
#: zero, no syscall seen (so the snapshots are not read).
_RESET = [[SEG_WAITING, kind, *[0] * NACC, 0, -1, -1] for kind in range(16)]
_WAIT_SLOT = {WAIT_NET: ACC_NET, WAIT_LOCK: ACC_LOCK, WAIT_CHAN: ACC_CHAN, WAIT_GC: ACC_GC,
              WAIT_OTHER: ACC_OTHER}
_SLOT_WAIT = {v: k for k, v in _WAIT_SLOT.items()}
#: Rows kept at most (about 24 bytes each, plus 8 per non-zero wait time): past it,
#: channel-receive boundaries are no longer recorded, and the segments are marked truncated.
MAX_SEGMENTS = 1_000_000

#: Where the most significant byte of each 8-byte value is, in an array's bytes.
_TOP_BYTE: Final = 7 if sys.byteorder == "little" else 0

_COLUMN_NAMES = ("start_ns", "code", "queued_ns", "run_ns", "runnable_ns", "syscall_ns", "net_ns",
                 "lock_ns", "chan_ns", "gc_ns", "other_ns")
#: The dense columns that start 32-bit (the rest of the durations are sparse columns).
_DENSE_32 = ("queued_ns", "run_ns")

#: Pending row values kept before they are moved into the columns (bounds their memory).
_FLUSH_AT = len(_COLUMN_NAMES) * 4096

_LOCK_MARKS = ("Mutex).", "sync.runtime_SemacquireMutex", "sync.runtime_SemacquireRWMutex")
_GC_REASONS = frozenset({"GC mark assist wait for work", "wait until GC ends", "GC weak to strong wait"})
_GC_FRAMES = ("runtime.gcMarkDone", "runtime.gcStart", "runtime.gcAssistAlloc", "runtime.gcParkAssist")
_CHAN_REASONS = frozenset({"chan receive", "chan send", "select", "sync.(*Cond).Wait", "forever"})


_ZERO_ACC = (0,) * NACC


def new_state(status: int, gen: int, runnable_since: int, t: int, slot: int, seg: int, fn: int) -> list[int]:
    """A goroutine's state list: the ordering's four slots, then the accounting slots."""
    return [status, gen, 0, runnable_since, t, slot, 0, fn, seg, 0, *_ZERO_ACC, 0, -1, -1, *_ZERO_ACC, *_ZERO_ACC]


def wait_kind(reason: str, functions: list[str]) -> tuple[int, int]:
    """(WAIT_* kind, boundary CLOSE_* or 0) of a block with this reason and stack (leaf first)."""
    if reason == "network" or (not reason and "internal/poll.runtime_pollWait" in functions):
        idle = ("net/http.(*conn).serve" in functions
                and "net/http.serverHandler.ServeHTTP" not in functions)
        return WAIT_NET, CLOSE_NET_IDLE if idle else 0
    if reason in _GC_REASONS or any(f.startswith(_GC_FRAMES) for f in functions[:4]):
        return WAIT_GC, 0  # e.g. an assist waiting for mark termination (runtime.gcMarkDone)
    if reason == "sync" or (not reason and any(f.startswith("sync.runtime_Semacquire") for f in functions)):
        locked = any(m in f for f in functions for m in _LOCK_MARKS)
        return (WAIT_LOCK if locked else WAIT_CHAN), 0
    if reason == "sync.(*Cond).Wait" and "net/http.(*connReader).abortPendingRead" in functions:
        return WAIT_CHAN, CLOSE_RESPONSE
    if reason in _CHAN_REASONS or (not reason and ("runtime.chanrecv" in functions
                                                   or "runtime.selectgo" in functions)):
        receive = reason == "chan receive" or (not reason and "runtime.chanrecv" in functions
                                               and "runtime.selectgo" not in functions)
        return WAIT_CHAN, CLOSE_CHAN if receive else 0
    return WAIT_OTHER, 0


class Accounting:
    """The accounting state shared by the ordering's handlers and its inlined hot paths."""

    def __init__(self) -> None:
        self.out = GoroutineSegments()
        o = self.out
        # Durations start in 32-bit columns (up to 4.29 s each: nearly every segment), which
        # halves the largest thing a busy trace builds; a longer one widens its column.
        for name in _DENSE_32:
            setattr(o, name, array("I"))
        self._cols: tuple[array[int] | SparseColumn, ...] = tuple(getattr(o, name) for name in _COLUMN_NAMES)
        #: Rows not yet in the columns, flat (one ``extend`` per row instead of eleven
        #: appends); moved into the columns in bulk by :meth:`flush`.
        self._rows: list[int] = []
        self._nrows = 0
        #: Per generation: block key -> WAIT kind's slot | boundary << 8 (see :meth:`classify`).
        self.bcls: dict[int, int] = {}
        #: Per generation: [wait time, count] per block key (lock and channel waits): one
        #: lookup per wake-up, and small integers to add.
        self.waits: dict[int, list[int]] = {}
        self._fn_of_stack: dict[int, int] = {}
        self._fn_index: dict[str, int] = {"": 0}
        self._site_index: dict[tuple[int, Stack], int] = {}
        self._stack_cache: dict[int, Stack] = {}
        self._interned: dict[Stack, Stack] = {}
        # Trace-wide caches keyed by what the generation-local IDs stand for (the block
        # reason and the stack's PCs: one process, so a PC always names the same frame),
        # so that each generation does not classify the same waits again.
        self._kinds: dict[tuple[str, tuple[int, ...]], tuple[int, int]] = {}
        self._sites_of: dict[tuple[str, tuple[int, ...]], int] = {}
        self._fns_of: dict[tuple[bool, tuple[int, ...]], int] = {}
        self._gen: Generation | None = None
        self.chan_boundaries = True
        #: A block key is the reason's string ID << kbits | the stack ID, kbits wide enough
        #: for this generation's stack IDs: small keys are small Python ints, which hash and
        #: shift faster than ones past 2**30.
        self.kbits = 1
        self._kmask = 1  # (1 << kbits) - 1: the stack ID part of a key

    # -- per generation ------------------------------------------------------------------

    def begin_generation(self, gen: Generation) -> None:
        self._gen = gen
        self.kbits = max(max(gen.stacks, default=0).bit_length(), 1)
        self._kmask = (1 << self.kbits) - 1
        self.bcls.clear()
        self._fn_of_stack.clear()
        self._stack_cache.clear()

    def flush(self) -> GoroutineSegments:
        """Move the pending rows into the columns; the segments so far."""
        rows = self._rows
        if rows:
            width = len(self._cols)
            try:
                # One conversion; strided array slices are copied in C. Unsigned first: the
                # values are times and codes, and it converts several times faster than "q".
                flat = array("Q", rows)
            except OverflowError:
                flat = array("q", rows)
            for c, col in enumerate(self._cols):
                part = flat[c::width]
                if isinstance(col, SparseColumn):
                    if part.tobytes().count(0) == len(part) * part.itemsize:
                        col.pad(len(part))  # all zero (most wait kinds, most of the time)
                    else:
                        col.extend(part)
                    continue
                if col.typecode == "I":
                    try:
                        part = array("I", part)  # (negative or too large: OverflowError)
                    except OverflowError:
                        col = self._widen(c)
                if col.typecode != part.typecode:  # a 64-bit column: signed
                    part = _as_signed(part)
                col.extend(part)
            rows.clear()
        return self.out

    def _widen(self, c: int) -> array[int]:
        """Column ``c`` holds a value a 32-bit column cannot: make it 64-bit from now on."""
        wide = array("q", self._cols[c])  # (a sparse column widens its own values)
        setattr(self.out, _COLUMN_NAMES[c], wide)
        cols = list(self._cols)
        cols[c] = wide
        self._cols = tuple(cols)
        return wide

    def end_generation(self, gstates: dict[int, list[int]]) -> None:
        """Fold this generation's per-key wait sums into the trace-wide sites."""
        self.flush()
        for key, (ns, n) in self.waits.items():
            idx = self._site(key) if key >= 0 else -key - 1
            site = self.out.wait_sites[idx]
            site.ns += ns
            site.count += n
        self.waits.clear()
        # Waits still going on keep their site across the generation change.
        for st in gstates.values():
            if st[A_KEY] > 0 and (st[A_SLOT] == ACC_LOCK or st[A_SLOT] == ACC_CHAN):
                st[A_KEY] = -self._site(st[A_KEY]) - 1

    def _stack(self, stack_id: int) -> Stack:
        got = self._stack_cache.get(stack_id)
        if got is None:
            gen = self._gen
            assert gen is not None
            strings, frames = gen.strings, gen.frames
            out = []
            for pc in gen.stacks.get(stack_id, ()):
                f = frames.get(pc)
                if f is not None:
                    out.append(Frame(strings.get(f[0], ""), strings.get(f[1], ""), f[2]))
            got = tuple(out)
            got = self._stack_cache[stack_id] = self._interned.setdefault(got, got)
        return got

    def _what(self, key: int) -> tuple[str, tuple[int, ...]]:
        """The block reason and stack PCs a generation's block key stands for."""
        gen = self._gen
        assert gen is not None
        return gen.strings.get(key >> self.kbits, ""), gen.stacks.get(key & self._kmask, ())

    def _kind(self, key: int) -> tuple[int, int]:
        what = self._what(key)
        got = self._kinds.get(what)
        if got is None:
            stack = self._stack(key & self._kmask)
            got = self._kinds[what] = wait_kind(what[0], [f.function for f in stack])
        return got

    def _site(self, key: int) -> int:
        what = self._what(key)
        idx = self._sites_of.get(what)
        if idx is None:
            stack = self._stack(key & self._kmask)
            k = (self._kind(key)[0], stack)
            idx = self._site_index.get(k)
            if idx is None:
                idx = self._site_index[k] = len(self.out.wait_sites)
                self.out.wait_sites.append(WaitSite(*k))
            self._sites_of[what] = idx
        return idx

    # -- classification (cached per generation) -----------------------------------------

    def classify(self, key: int) -> int:
        """The accumulator slot of a block with ``key``, plus its boundary kind << 8."""
        kind, boundary = self._kind(key)
        if boundary == CLOSE_CHAN and not self.chan_boundaries:
            boundary = 0
        c = self.bcls[key] = _WAIT_SLOT[kind] | boundary << 8
        return c

    def function_of(self, stack_id: int, root: bool = False) -> int:
        """Index of the function a goroutine runs: the leaf of a creation's start stack, or
        the root of a stack it was found in."""
        got = self._fn_of_stack.get(stack_id if not root else -stack_id - 1)
        if got is None:
            gen = self._gen
            assert gen is not None
            what = (root, gen.stacks.get(stack_id, ()))
            got = self._fns_of.get(what)
            if got is not None:
                self._fn_of_stack[stack_id if not root else -stack_id - 1] = got
                return got
            stack = self._stack(stack_id)
            name = (stack[-1] if root else stack[0]).function if stack else ""
            got = self._fn_index.get(name)
            if got is None:
                got = self._fn_index[name] = len(self.out.functions)
                self.out.functions.append(name)
            if got > 0xFFFF:
                got = 0
            self._fn_of_stack[stack_id if not root else -stack_id - 1] = self._fns_of[what] = got
        return got

    # -- segments ------------------------------------------------------------------------

    def close(self, g: int, st: list[int], t: int, kind: int) -> None:
        """End the goroutine's open segment at ``t`` (a boundary of ``kind``); the row
        keeps no end, as the segment's times add up to it.

        A ``net/http`` connection's request ends with its response: the end of the write
        before the read that found no next request (what follows is connection upkeep)."""
        start = st[A_SEG]
        if start >= 0:
            if self._nrows >= MAX_SEGMENTS:
                self.out.truncated = True
                self.chan_boundaries = False
                self.bcls.clear()
            elif kind != CLOSE_CHAN or self.chan_boundaries:
                rows = self._rows
                opened = st[A_OPEN]
                rows += (start, g << 24 | st[A_FN] << 8 | opened << 4 | kind, st[A_QUEUED] if opened else 0)
                # The accumulators at the end: now, or (ending at st[A_PREV] or st[A_SYS])
                # those of the response write. No end is stored: the times add up to it.
                if kind == CLOSE_NET_IDLE and st[A_PREV] > start:
                    rows += st[A_PSNAP:A_PSNAP + NACC]
                elif kind == CLOSE_RESPONSE and st[A_SYS] > start:
                    rows += st[A_SNAP:A_SNAP + NACC]  # the response write just before
                else:
                    rows += st[ACC_RUN:ACC_RUN + NACC]
                self._nrows += 1
                if len(rows) >= _FLUSH_AT:
                    self.flush()
        st[A_SEG:A_PREV + 1] = _RESET[kind]

    @staticmethod
    def opened(st: list[int], t: int) -> None:
        """A goroutine woken from a boundary runs: its segment begins now."""
        st[A_SEG] = t
        st[A_QUEUED] = t - st[A_QUEUED]
        st[ACC_RUNNABLE] = 0


def _as_signed(part: array[int]) -> array[int]:
    """``part`` (unsigned 64-bit) as signed 64-bit, in C: OverflowError, as a conversion
    would raise, when a value is 2**63 or more."""
    raw = part.tobytes()
    if raw and max(raw[_TOP_BYTE::8]) >= 0x80:
        raise OverflowError("a value does not fit in 64 signed bits")
    return array("q", raw)


def slot_wait_kind(slot: int) -> int:
    return _SLOT_WAIT.get(slot, WAIT_OTHER)

