"""Per-thread event cursors and the frontier heap (``internal/trace/batchcursor.go``).

A cursor walks the event batches of one thread (M) in a generation. A batch is
decoded in bulk into the flat sequence ``type, dt, args...``; the cursor points at
one event of it by index and carries that event's absolute time in nanoseconds.

The frontier is a binary min-heap of cursors by time. Its sift operations reproduce
Go's exactly, ties included, because the order in which equal-time events of
different threads come out decides the timestamps the reader assigns.
"""

from __future__ import annotations

from mapdoctor.formats.limits import release_range
from mapdoctor.formats.trace.batches import Batch, TraceBytes, TraceFormatError
from mapdoctor.formats.trace.spec import VersionTable
from mapdoctor.formats.trace.varints import decode_all, decode_events_exact


class Cursor:
    __slots__ = ("batches", "bidx", "data", "exact", "fast", "freq", "i", "m", "ms", "n", "names", "time",
                 "typ", "vals", "width")

    def __init__(self, m: int, ms: list[int], batches: list[Batch], data: TraceBytes, freq: float,
                 table: VersionTable) -> None:
        self.m = m
        self.ms = ms  # the thread's state: [goroutine, proc] (-1 for none)
        self.batches = batches
        self.bidx = -1
        self.data = data
        self.freq = freq
        self.width = table.timed_width
        self.names = table.names
        self.vals: list[int] = []
        self.exact = False  # vals came from the byte-by-byte decoder
        #: The merge may step this cursor inline (a real thread, regular batch data).
        self.fast = m != -1
        self.n = 0
        self.i = 0
        self.typ = 0
        self.time = 0  # of the current event; the base the next event's delta applies to

    def first(self) -> bool:
        """Position on the first event; False if the batches hold none."""
        return self.next_batch()

    def step(self) -> bool:
        """Move past the current event; False when the thread has no more events."""
        i = self.i + self.width[self.typ]
        if i >= self.n:
            return self.next_batch()
        return self.load(i)

    def load(self, i: int) -> bool:
        """Make the event at index ``i`` of the decoded batch current."""
        typ = self.vals[i]
        if not self.exact and (typ >= 128 or self.width[typ] <= 0 or i + self.width[typ] > self.n):
            self._redecode()
            typ = self.vals[i]
        self.i = i
        self.typ = typ
        self.time += int(self.vals[i + 1] * self.freq)
        return True

    def next_batch(self) -> bool:
        while self.bidx + 1 < len(self.batches):
            self.bidx += 1
            b = self.batches[self.bidx]
            if b.end == b.start:
                continue  # Go tolerates empty batches
            self.time = int(b.time * self.freq)
            vals = decode_all(self.data, b.start, b.end)
            # Decoded: a mapped trace need not keep the batch's pages (read back if needed).
            release_range(self.data, b.start, b.end)
            if vals is None:
                self._redecode()
            else:
                self.vals = vals
                self.n = len(vals)
                self.exact = False
                self.fast = self.m != -1
            return self.load(0)
        self.vals = []
        self.n = 0
        return False

    def _redecode(self) -> None:
        """Re-read the current batch byte by byte: it holds experimental events (whose
        type bytes are not varints) or is malformed, in which case this raises. Events
        before the current one were well formed, so their indices do not change."""
        b = self.batches[self.bidx]
        self.vals, _ = decode_events_exact(self.data, b.start, b.end, self.width, self.names)
        self.n = len(self.vals)
        self.exact = True
        self.fast = False

    def offset(self) -> int:
        """Byte offset of the current event (for error messages)."""
        if not 0 <= self.bidx < len(self.batches):
            return self.batches[-1].end if self.batches else 0
        b = self.batches[self.bidx]
        try:
            vals, offsets = decode_events_exact(self.data, b.start, b.end, self.width, self.names)
        except TraceFormatError as err:
            return err.offset
        j = k = 0
        while j < self.i and k < len(offsets):
            j += self.width[vals[j]]
            k += 1
        return offsets[k] if k < len(offsets) else b.offset


# Frontier heap, as Go's heapInsert/heapUpdate/heapRemove (strict comparisons matter).

def heap_insert(heap: list[Cursor], c: Cursor) -> None:
    heap.append(c)
    sift_up(heap, len(heap) - 1)


def heap_update(heap: list[Cursor], i: int) -> None:
    if sift_up(heap, i) != i:
        return
    sift_down(heap, i)


def heap_remove(heap: list[Cursor], i: int) -> None:
    while i > 0:
        parent = (i - 1) // 2
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    heap[0], heap[-1] = heap[-1], heap[0]
    heap.pop()
    sift_down(heap, 0)


def sift_up(heap: list[Cursor], i: int) -> int:
    while i > 0:
        parent = (i - 1) // 2
        if heap[parent].time <= heap[i].time:
            break
        heap[parent], heap[i] = heap[i], heap[parent]
        i = parent
    return i


def sift_down(heap: list[Cursor], i: int) -> int:
    n = len(heap)
    while True:
        m = i
        min_t = heap[i].time if i < n else 1 << 63
        c1 = 2 * i + 1
        if c1 < n:
            t = heap[c1].time
            if t < min_t:
                min_t = t
                m = c1
            c2 = c1 + 1
            if c2 < n and heap[c2].time < min_t:
                m = c2
        if m == i:
            return i
        heap[i], heap[m] = heap[m], heap[i]
        i = m
