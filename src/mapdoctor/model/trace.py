"""What an execution trace says about GC, stop-the-world pauses, scheduling and CPU.

Plain data, no parsing. Times are nanoseconds on the trace clock (Go's
``trace.Time``): comparable within a trace, not wall-clock time. Per-event series
that can have millions of entries (scheduling waits, metric samples) are kept in
columnar ``array`` form.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress, repeat
from operator import add, eq, mul, sub
from typing import Final, overload

from mapdoctor.model.stack import Stack

#: Goroutine ID meaning "no goroutine" (Go's ``trace.NoGoroutine``).
NO_GOROUTINE = -1
#: Task ID meaning "no task" (Go's ``trace.NoTask``).
NO_TASK = (1 << 64) - 1

#: Metric names, as Go's trace reader and ``runtime/metrics`` spell them.
METRIC_HEAP_OBJECTS = "/memory/classes/heap/objects:bytes"
METRIC_HEAP_GOAL = "/gc/heap/goal:bytes"
METRIC_GOMAXPROCS = "/sched/gomaxprocs:threads"


class _Span:
    """A time range whose edges the trace may not show (None: before its start / after its end)."""

    __slots__ = ()
    start_ns: int | None
    end_ns: int | None

    @property
    def duration_ns(self) -> int | None:
        if self.start_ns is None or self.end_ns is None:
            return None
        return self.end_ns - self.start_ns


@dataclass(frozen=True, slots=True)
class GCCycle(_Span):
    """The concurrent mark phase of one GC cycle (``GC concurrent mark phase`` range)."""

    seq: int  # the runtime's GC cycle number
    start_ns: int | None  # None: already running when the trace started
    end_ns: int | None  # None: still running when the trace ended
    stack: Stack = ()  # what triggered it (often an allocation), leaf first


@dataclass(frozen=True, slots=True)
class STWPause:
    """A stop-the-world range, e.g. reason ``GC mark termination`` or ``read mem stats``."""

    reason: str
    start_ns: int
    end_ns: int | None  # None: the trace ended during the pause
    goroutine: int  # the goroutine that stopped the world
    stack: Stack = ()

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_ns is None else self.end_ns - self.start_ns


@dataclass(frozen=True, slots=True)
class MarkAssist(_Span):
    """A goroutine made to help the GC mark because it allocated (``GC mark assist``)."""

    goroutine: int
    start_ns: int | None  # None: already assisting when the trace (generation) started
    end_ns: int | None
    stack: Stack = ()  # the allocation that triggered the assist, leaf first


@dataclass(frozen=True, slots=True)
class CPUSample:
    """A CPU profile sample recorded in the trace (needs a running CPU profile)."""

    time_ns: int
    goroutine: int  # NO_GOROUTINE if the thread ran no goroutine
    thread: int
    proc: int
    stack: Stack


@dataclass(slots=True)
class CPUSamples(Sequence[CPUSample]):
    """The trace's CPU samples in time order, as columns (a sample-heavy trace has hundreds of
    thousands): ``stack[i]`` indexes ``stacks``, a table of the distinct stacks, shared by the
    samples that have them and made of frames shared by the stacks. A :class:`CPUSample` is
    made only when one is read (by index or by iterating)."""

    time_ns: array[int] = field(default_factory=lambda: array("q"))
    goroutine: array[int] = field(default_factory=lambda: array("q"))  # NO_GOROUTINE: none
    thread: array[int] = field(default_factory=lambda: array("q"))
    proc: array[int] = field(default_factory=lambda: array("q"))
    stack: array[int] = field(default_factory=lambda: array("I"))
    #: The distinct stacks; entry 0 is the empty stack.
    stacks: list[Stack] = field(default_factory=lambda: [()])

    def add(self, time_ns: int, goroutine: int, thread: int, proc: int, stack: int) -> None:
        """Append a sample whose stack is ``stacks[stack]``."""
        self.time_ns.append(time_ns)
        self.goroutine.append(goroutine)
        self.thread.append(thread)
        self.proc.append(proc)
        self.stack.append(stack)

    def __len__(self) -> int:
        return len(self.time_ns)

    @overload
    def __getitem__(self, i: int) -> CPUSample: ...

    @overload
    def __getitem__(self, i: slice) -> list[CPUSample]: ...

    def __getitem__(self, i: int | slice) -> CPUSample | list[CPUSample]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        return CPUSample(self.time_ns[i], self.goroutine[i], self.thread[i], self.proc[i],
                         self.stacks[self.stack[i]])

    def __iter__(self) -> Iterator[CPUSample]:
        return map(CPUSample, self.time_ns, self.goroutine, self.thread, self.proc,
                   map(self.stacks.__getitem__, self.stack))


@dataclass(frozen=True, slots=True)
class StateTransition:
    """A goroutine state change (only kept when asked for: there are millions)."""

    time_ns: int
    goroutine: int
    from_state: str  # "Undetermined", "NotExist", "Runnable", "Running", "Waiting", "Syscall"
    to_state: str
    reason: str = ""  # e.g. "chan receive", "sync", "preempted", "GC mark assist wait for work"
    stack: Stack = ()


@dataclass(slots=True)
class SchedWaits:
    """Each time a goroutine started running after waiting as runnable (Runnable -> Running).

    ``wait_ns[i]`` is how long a goroutine waited before it started at ``start_ns[i]``:
    the scheduling latency. Waits whose start was not in the trace are left out. (Which
    goroutine waited is not kept: busy traces have millions of waits, and the latency
    over time is what tells whether GC or map growth delayed the scheduler.)

    Stored compactly, as busy traces have tens of millions of waits: starts as the gap to
    the previous start (they come in time order) and waits as they are, both in 32-bit
    columns that turn 64-bit only when a value does not fit (:meth:`extend`).
    """

    first_ns: int = 0  # start_ns[0]
    start_gap: array[int] = field(default_factory=lambda: array("I"))  # start_ns[i] - start_ns[i-1]
    wait_ns: array[int] = field(default_factory=lambda: array("I"))
    _last: int = 0

    def __len__(self) -> int:
        return len(self.wait_ns)

    @property
    def start_ns(self) -> array[int]:
        """The start times, rebuilt from the gaps (a new array on each call)."""
        out = array("q", accumulate(self.start_gap, initial=self.first_ns))
        del out[0]  # the first gap is 0: start_ns[0] is first_ns + start_gap[0]
        return out

    def extend(self, start_ns: array[int], wait_ns: array[int]) -> None:
        """Append waits (``start_ns`` in time order after those held)."""
        if not start_ns:
            return
        if not self.wait_ns:
            self.first_ns = self._last = start_ns[0]
        last, self._last = self._last, start_ns[-1]
        # Converted element by element in C, never through a list (millions of waits).
        self.start_gap = _append(self.start_gap, lambda code: array(code, map(sub, start_ns, chain((last,), start_ns))))
        self.wait_ns = _append(self.wait_ns, lambda code: array(code, wait_ns))


def _append(col: array[int], values: Callable[[str], array[int]]) -> array[int]:
    """``col`` with ``values(col.typecode)`` appended: the same array, or a 64-bit copy when
    one of them does not fit in it."""
    try:
        more = values(col.typecode)
    except OverflowError:
        col = array("q", col)
        more = values("q")
    col.extend(more)
    return col


#: Kinds of wait a goroutine can be blocked in (how its blocked time is accounted).
WAIT_NET: Final = 1
WAIT_LOCK: Final = 2
WAIT_CHAN: Final = 3
WAIT_GC: Final = 4
WAIT_OTHER: Final = 5
WAIT_NAMES = {WAIT_NET: "network", WAIT_LOCK: "lock", WAIT_CHAN: "channel", WAIT_GC: "gc", WAIT_OTHER: "other"}
#: Boundaries that end a segment (and begin the next): a ``net/http`` connection goroutine
#: waiting for its next request, a channel receive, the goroutine's end.
CLOSE_NET_IDLE: Final = 1
CLOSE_CHAN: Final = 3
CLOSE_DESTROY: Final = 5
#: A ``net/http`` connection goroutine, its response written, waiting for its background
#: reader to stop (``abortPendingRead``): the end of a request even when the next one is
#: already waiting to be read (then no network wait separates them).
CLOSE_RESPONSE: Final = 2
#: A user region began or ended on the goroutine (annotated spans get the same accounting).
CLOSE_REGION_BEGIN: Final = 6
CLOSE_REGION_END: Final = 7
#: How a segment began: after one of the boundaries above, or at the goroutine's creation.
OPEN_UNKNOWN, OPEN_CREATE = 0, 4


@dataclass(slots=True)
class WaitSite:
    """Time goroutines spent blocked at one stack (lock and channel waits)."""

    kind: int  # WAIT_LOCK or WAIT_CHAN
    stack: Stack  # where they blocked, leaf first
    count: int = 0
    ns: int = 0


class SparseColumn(Sequence[int]):
    """A column of mostly-zero integers: the rows that are not zero and their values.

    Most segments spend their time in one or two ways (running, and waiting on one kind of
    thing), so most of each wait column is zero. Reads like an array: ``col[k]``,
    ``len(col)``, iteration; ``rows`` and ``values`` are 32-bit, ``values`` turns 64-bit
    when a value does not fit."""

    __slots__ = ("_n", "rows", "values")

    def __init__(self, values: Iterable[int] = ()) -> None:
        self._n = 0
        self.rows: array[int] = array("I")
        self.values: array[int] = array("I")
        self.extend(array("q", values))

    def extend(self, part: array[int]) -> None:
        """Append the values of ``part`` (zeros cost nothing)."""
        n = self._n
        # compress() walks both in C: no Python loop over the (mostly zero) rows.
        self.rows.extend(compress(range(n, n + len(part)), part))
        self.values = _append(self.values, lambda code: array(code, compress(part, part)))
        self._n = n + len(part)

    def pad(self, n: int) -> None:
        """Append ``n`` zeros."""
        self._n += n

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, k: int) -> int: ...

    @overload
    def __getitem__(self, k: slice) -> list[int]: ...

    def __getitem__(self, k: int | slice) -> int | list[int]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self._n))]
        rows = self.rows
        i = bisect_left(rows, k)  # the usual case first: analysis reads rows one by one
        if i < len(rows) and rows[i] == k:
            return self.values[i]
        if 0 <= k < self._n:
            return 0
        if -self._n <= k < 0:
            return self[k + self._n]
        raise IndexError("column index out of range")

    def __iter__(self) -> Iterator[int]:
        prev = 0
        for k, v in zip(self.rows, self.values, strict=True):
            yield from repeat(0, k - prev)
            yield v
            prev = k + 1
        yield from repeat(0, self._n - prev)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SparseColumn) and (self._n, self.rows, self.values) == (
            other._n, other.rows, other.values)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SparseColumn({list(self)!r})"


@dataclass(slots=True)
class GoroutineSegments:
    """Where goroutines' time went between boundaries, one row per segment (columnar).

    A segment is one goroutine's time from its first run after a boundary (or its creation)
    to the next boundary; every nanosecond of it is in exactly one of the ``*_ns`` columns: running,
    runnable (waiting for a P), in a syscall, blocked on the network, on a lock, on a
    channel/select/sync.Cond/WaitGroup, on the GC (assist waits), or otherwise (sleep...).
    So its end is not stored: it is the start plus those (:meth:`end`). ``code`` packs
    ``goroutine << 24 | function << 8 | opened_by << 4 | closed_by`` (``function`` indexes
    ``functions``: what the goroutine was started with, 0 unknown). The columns other than
    running are mostly zero, and kept sparse. Segments begun before the trace started or
    still open at its end are not kept.
    """

    start_ns: array[int] = field(default_factory=lambda: array("q"))
    code: array[int] = field(default_factory=lambda: array("q"))
    #: Time the goroutine was runnable between its wake-up at the boundary and its first run
    #: (before the segment begins: nothing the program's own clock can see).
    queued_ns: array[int] = field(default_factory=lambda: array("q"))
    run_ns: array[int] = field(default_factory=lambda: array("q"))
    runnable_ns: SparseColumn = field(default_factory=SparseColumn)
    syscall_ns: SparseColumn = field(default_factory=SparseColumn)
    net_ns: SparseColumn = field(default_factory=SparseColumn)
    lock_ns: SparseColumn = field(default_factory=SparseColumn)
    chan_ns: SparseColumn = field(default_factory=SparseColumn)
    gc_ns: SparseColumn = field(default_factory=SparseColumn)
    other_ns: SparseColumn = field(default_factory=SparseColumn)
    functions: list[str] = field(default_factory=lambda: [""])
    wait_sites: list[WaitSite] = field(default_factory=list)
    #: The row cap was reached: channel-receive boundaries after that point are missing.
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.start_ns)

    def accounts(self) -> tuple[Sequence[int], ...]:
        """The eight time columns, in the order running, runnable, syscall, network, lock,
        channel, gc, other."""
        return (self.run_ns, self.runnable_ns, self.syscall_ns, self.net_ns, self.lock_ns, self.chan_ns,
                self.gc_ns, self.other_ns)

    def row(self, k: int) -> list[int]:
        """The eight times of segment ``k`` (as :meth:`accounts` orders them), read in one call."""
        return [col[0] for col in self.read((k,))]

    def read(self, ks: Sequence[int]) -> list[array[int]]:
        """The eight times of segments ``ks`` (any order, repeats allowed), one array per column
        as :meth:`accounts` orders them: ``read(ks)[j][i]`` is column ``j`` of row ``ks[i]``.

        Reading many rows at once keeps the per-row work in C (``map`` calls, no Python loop per
        row and column): a sparse column with few stored rows for the rows asked is made a dict
        once; one with many is searched (a bisect per row asked, dearer per row)."""
        n = len(ks)
        if n and min(ks) < 0:
            raise IndexError("segment index out of range")
        run = self.run_ns
        out = [array(run.typecode, map(run.__getitem__, ks))]  # IndexError past the end
        for col in self.accounts()[1:]:
            assert isinstance(col, SparseColumn)
            rows, values = col.rows, col.values
            if not rows:
                out.append(array(values.typecode, bytes(n * values.itemsize)))  # all zero
            elif len(rows) <= 4 * n:
                stored = dict(zip(rows, values, strict=True))
                out.append(array(values.typecode, map(stored.get, ks, repeat(0))))
            else:
                # pos: the last stored row <= k, or -1 (then rows[-1] is > k: no match either).
                pos = array("q", map(sub, map(bisect_right, repeat(rows), ks), repeat(1)))
                found = map(eq, map(rows.__getitem__, pos), ks)
                out.append(array(values.typecode, map(mul, map(values.__getitem__, pos), found)))
        return out

    def code_bytes(self, i: int) -> bytes:
        """Byte ``i`` of every row's ``code`` (``code >> 8 * i & 0xFF``): byte 0 is
        ``opened_by << 4 | closed_by``, bytes 1 and 2 the function. Made in C by slicing the
        column's memory when it is 64-bit little-endian (as it is filled), not a Python loop."""
        code = self.code
        if code.itemsize == 8 and sys.byteorder == "little":
            return memoryview(code).cast("B")[i::8].tobytes()
        return bytes([(c >> 8 * i) & 0xFF for c in code])

    def end(self, k: int) -> int:
        """The end of segment ``k``."""
        return self.start_ns[k] + sum(self.row(k))

    def ends(self, ks: Sequence[int]) -> array[int]:
        """The ends of segments ``ks``, read as :meth:`read` reads them."""
        return array("q", map(add, map(self.start_ns.__getitem__, ks), map(sum, zip(*self.read(ks), strict=True))))

    @property
    def end_ns(self) -> array[int]:
        """The ends of all segments (a new array on each call)."""
        total = array("q", self.start_ns)
        for col in self.accounts():
            total = array("q", map(add, total, col))
        return total


@dataclass(slots=True)
class MetricSeries:
    """Samples of one runtime metric over time."""

    name: str
    time_ns: array[int] = field(default_factory=lambda: array("q"))
    value: array[int] = field(default_factory=lambda: array("Q"))

    def __len__(self) -> int:
        return len(self.time_ns)


@dataclass(slots=True)
class UserTask(_Span):
    """A ``runtime/trace.NewTask`` task: e.g. one request, when the service annotates them."""

    id: int
    name: str  # "" if its begin was not in the trace
    parent: int = NO_TASK
    start_ns: int | None = None
    end_ns: int | None = None
    goroutine: int = NO_GOROUTINE  # where it began (or ended, if its begin is missing)


@dataclass(slots=True)
class UserRegion(_Span):
    """A ``runtime/trace.StartRegion``/``WithRegion`` region of one goroutine."""

    name: str
    task: int  # 0: the background task
    goroutine: int
    start_ns: int | None = None  # None: begun before the trace started
    end_ns: int | None = None  # None: still open when the trace ended


@dataclass(frozen=True, slots=True)
class UserLog:
    """A ``runtime/trace.Log`` message."""

    time_ns: int
    task: int
    goroutine: int
    category: str
    message: str


@dataclass(slots=True)
class ExecutionTrace:
    """Everything the analysis uses from one ``runtime/trace`` capture."""

    format_version: int  # N of the ``go 1.N trace`` header (Go 1.24 writes 23, Go 1.27 writes 26)
    start_ns: int = 0
    end_ns: int = 0
    generations: int = 0
    gc_cycles: list[GCCycle] = field(default_factory=list)
    stw_pauses: list[STWPause] = field(default_factory=list)
    mark_assists: list[MarkAssist] = field(default_factory=list)
    cpu_samples: CPUSamples = field(default_factory=CPUSamples)
    sched_waits: SchedWaits = field(default_factory=SchedWaits)
    #: Every goroutine state transition; None unless requested (``keep_transitions``).
    transitions: list[StateTransition] | None = None
    #: Per-goroutine time accounting between request-like boundaries.
    segments: GoroutineSegments = field(default_factory=GoroutineSegments)
    #: How often goroutines blocked (Running -> Waiting), by reason.
    block_reasons: dict[str, int] = field(default_factory=dict)
    tasks: list[UserTask] = field(default_factory=list)
    regions: list[UserRegion] = field(default_factory=list)
    logs: list[UserLog] = field(default_factory=list)
    metrics: dict[str, MetricSeries] = field(default_factory=dict)
    #: Number of events of each kind, named as Go's reader names them ("StateTransition", ...).
    event_counts: dict[str, int] = field(default_factory=dict)
    #: The trace ended mid-generation (cut off, or the process died): only complete data is kept.
    partial: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    def metric(self, name: str) -> MetricSeries:
        return self.metrics.get(name) or MetricSeries(name)
