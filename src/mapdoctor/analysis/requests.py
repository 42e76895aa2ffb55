"""Request spans from an execution trace, annotated or not.

Methods, tried in this order (the first that finds at least :data:`MIN_REQUESTS` wins):

* ``regions`` / ``tasks``: the program's own ``runtime/trace`` annotations;
* ``http1-conn``: a ``net/http`` HTTP/1.x connection goroutine's work from its first run
  after the network wake-up that brought a request to the end of its response write (the
  last write before it waits for the next request); the wait for a CPU between the wake-up
  and that first run is kept apart (``queued``);
* ``goroutine``: whole lives of goroutines started for each request or connection
  (HTTP/2 and gRPC-style servers, ``go handle(conn)``): the start function with the most
  goroutines begun and ended inside the trace;
* ``worker``: a worker pool's goroutines, from the channel receive that handed them a job
  to their next wait on that receive.

Each unannotated span carries the goroutine's time accounting (running, runnable, syscall,
blocked by kind), summed from the trace parser's segments (docs/REQUESTS.md).
"""

from __future__ import annotations

import bisect
import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from mapdoctor.model.trace import (
    CLOSE_CHAN,
    CLOSE_DESTROY,
    CLOSE_NET_IDLE,
    CLOSE_REGION_BEGIN,
    CLOSE_REGION_END,
    CLOSE_RESPONSE,
    OPEN_CREATE,
    ExecutionTrace,
    GoroutineSegments,
)

#: Fewer spans than this give no percentiles worth a verdict.
MIN_REQUESTS = 10
#: Goroutine start functions that are plumbing, not requests.
_PLUMBING = ("runtime.", "runtime/", "net/http.(*connReader).backgroundRead", "net/http.(*persistConn).",
             "net/http.(*Transport).", "net/http.(*Server).", "net/http.(*http2", "net/http/pprof.",
             "internal/", "os/signal.", "time.", "context.", "testing.")
#: Columns of the accounting, in the order of :class:`Span` ``acc``.
ACCOUNTS = ("running", "runnable", "syscall", "network", "lock", "channel", "gc_wait", "other")

HTTP_CONN_SERVE = "net/http.(*conn).serve"
#: Boundaries inside a request: the segments on either side belong to the same request.
_REGION = frozenset({CLOSE_REGION_BEGIN, CLOSE_REGION_END})
_INNER = _REGION | {CLOSE_CHAN}
_HTTP_ENDS = frozenset({CLOSE_NET_IDLE, CLOSE_RESPONSE})
_HTTP_CLOSES = _HTTP_ENDS | {CLOSE_DESTROY}
#: The column that the gaps between a span's segments (inner channel waits) go to.
_CHANNEL = ACCOUNTS.index("channel")


@dataclass(slots=True)
class Span:
    start: int
    end: int
    goroutine: int
    #: Nanoseconds per ACCOUNTS entry; None when only annotations are known (regions, tasks).
    acc: list[int] | None = None
    #: Runnable between the wake-up that brought the request and the span's start.
    queued: int = 0

    @property
    def wall(self) -> int:
        return max(0, self.end - self.start)


@dataclass(slots=True)
class Requests:
    method: str | None  # regions, tasks, http1-conn, goroutine, worker; None: none found
    spans: list[Span] = field(default_factory=list)
    detail: str = ""  # what the spans are (e.g. the start function of per-request goroutines)
    why_none: str = ""  # when method is None: why there is no request section
    #: The function the request goroutines run (their waits' stacks contain it); "" unknown.
    root: str = ""


def _plumbing(fn: str) -> bool:
    return not fn or fn.startswith(_PLUMBING)


def _segment_rows(tr: ExecutionTrace, only: set[int] | None = None) -> dict[int, list[int]]:
    """Row indices of the segments of each goroutine (or of those in ``only``), in time order."""
    by_g: defaultdict[int, list[int]] = defaultdict(list)
    goroutines = [code >> 24 for code in tr.segments.code]
    if only is None:
        for k, g in enumerate(goroutines):
            by_g[g].append(k)
    else:
        # Their rows are picked out in C: annotated spans are often on a few goroutines, with
        # few of a big trace's rows.
        for k in itertools.compress(range(len(goroutines)), map(only.__contains__, goroutines)):
            by_g[goroutines[k]].append(k)
    return by_g


#: Rows of segments read at once when merging spans: bounds the arrays :func:`_merge` reads
#: them into, whatever the trace's size.
_BATCH_ROWS = 1 << 16


def _merge(tr: ExecutionTrace, runs: list[list[int]], gap_column: int) -> list[Span]:
    """One span from each run of consecutive segments of a goroutine; the gaps between them were
    waits at an inner boundary (a channel receive), counted in ``gap_column``."""
    out: list[Span] = []
    rows_to = list(itertools.accumulate(map(len, runs)))  # rows in runs[:i + 1]
    i = 0
    while i < len(runs):
        done = rows_to[i - 1] if i else 0
        j = max(i + 1, bisect.bisect_right(rows_to, done + _BATCH_ROWS))  # (at least one run)
        _merge_batch(tr, runs[i:j], gap_column, out)
        i = j
    return out


def _merge_batch(tr: ExecutionTrace, runs: list[list[int]], gap_column: int, out: list[Span]) -> None:
    s = tr.segments
    start, code, queued = s.start_ns, s.code, s.queued_ns
    flat = list(itertools.chain.from_iterable(runs))
    # The eight times of every row of the batch, read in one pass over the columns, in run order.
    times = zip(*s.read(flat), strict=True)
    for run in runs:
        first = run[0]
        if len(run) == 1:  # most spans are one segment
            acc = list(next(times))
            end = start[first] + sum(acc)
        else:
            rows = list(itertools.islice(times, len(run)))
            acc = [sum(col) for col in zip(*rows, strict=True)]
            ends = [start[k] + sum(t) for k, t in zip(run, rows, strict=True)]
            acc[gap_column] += sum([start[b] - e for b, e in zip(run[1:], ends[:-1], strict=True)])
            end = ends[-1]
        out.append(Span(start[first], end, code[first] >> 24, acc, queued[first]))


#: ``code`` byte 0 (``opened_by << 4 | closed_by``) -> 1 if the segment ends a request.
_ENDS_REQUEST = bytes(int((b & 15) in _HTTP_ENDS) for b in range(256))
#: ``code`` byte 0 -> what it is to :func:`_http1`: 0 none of these (ends any span begun),
#: ``_OPENS`` the first segment of a request, ``_CONTINUES`` one inside a request; plus
#: ``_CLOSES`` when it is a request's last.
_OPENS, _CONTINUES, _CLOSES = 1, 2, 4
_HTTP_ROLE = bytes(
    0 if (b >> 4, b & 15) == (CLOSE_RESPONSE, CLOSE_NET_IDLE)  # upkeep after a response, up to its next read wait
    else (_OPENS if (b >> 4) in _HTTP_ENDS else _CONTINUES if (b >> 4) in _INNER else 0)
    | (_CLOSES if (b & 15) in _HTTP_CLOSES else 0)
    for b in range(256))


def _http_goroutines(s: GoroutineSegments) -> set[int]:
    """The goroutines with a segment that ends a request or that run ``conn.serve``. Found over
    all rows at once: most goroutines are not connections, and looking at each one's rows in
    Python costs more than following the connections' requests."""
    code = s.code
    found = {c >> 24 for c in itertools.compress(code, s.code_bytes(0).translate(_ENDS_REQUEST))}
    if HTTP_CONN_SERVE in s.functions:
        serve = s.functions.index(HTTP_CONN_SERVE)
        low = bytes(int(b == serve & 0xFF) for b in range(256))  # (the function's low byte first)
        found.update(c >> 24 for c in itertools.compress(code, s.code_bytes(1).translate(low))
                     if (c >> 8) & 0xFFFF == serve)
    return found


def _http1(tr: ExecutionTrace, by_g: dict[int, list[int]]) -> list[Span]:
    s = tr.segments
    runs: list[list[int]] = []
    role_of = s.code_bytes(0).translate(_HTTP_ROLE)
    http = _http_goroutines(s)
    for g, rows in by_g.items():
        if g not in http:
            continue
        run: list[int] = []
        for k in rows:
            role = role_of[k]
            if role & _OPENS:
                # After a response, a segment that ends with another response is the next
                # request, read without waiting (it had arrived already).
                run = [k]
            elif run and role & _CONTINUES:
                run.append(k)
            else:
                run = []
                continue
            if role & _CLOSES:
                runs.append(run)
                run = []
    return _merge(tr, runs, _CHANNEL)


def _lives(tr: ExecutionTrace, by_g: dict[int, list[int]]) -> tuple[list[Span], str]:
    """Lives of per-request goroutines, and the function they start with."""
    s = tr.segments
    lives: defaultdict[int, list[list[int]]] = defaultdict(list)
    for rows in by_g.values():
        first, last = s.code[rows[0]], s.code[rows[-1]]
        if (first >> 4) & 15 != OPEN_CREATE or last & 15 != CLOSE_DESTROY:
            continue
        # The segments in between must be contiguous (channel-receive boundaries only).
        fn = (first >> 8) & 0xFFFF
        if _plumbing(s.functions[fn]):
            continue
        lives[fn].append(rows)
    if not lives:
        return [], ""
    fn, runs = max(lives.items(), key=lambda kv: len(kv[1]))
    return _merge(tr, runs, _CHANNEL), s.functions[fn]  # only the chosen function's spans are made


def _workers(tr: ExecutionTrace, by_g: dict[int, list[int]]) -> tuple[list[Span], str, int]:
    s = tr.segments
    jobs: defaultdict[int, list[list[int]]] = defaultdict(list)
    goroutines: defaultdict[int, set[int]] = defaultdict(set)
    for g, rows in by_g.items():
        fn = (s.code[rows[0]] >> 8) & 0xFFFF
        if _plumbing(s.functions[fn]):
            continue
        run: list[int] = []
        for k in rows:
            c = s.code[k]
            opened, closed = (c >> 4) & 15, c & 15
            if opened == CLOSE_CHAN:
                run = [k]
            elif run and opened in _REGION:
                run.append(k)
            else:
                run = []
                continue
            if closed == CLOSE_CHAN:
                jobs[fn].append(run)
                goroutines[fn].add(g)
                run = []
            elif closed not in _REGION:
                run = []
    if not jobs:
        return [], "", 0
    fn, runs = max(jobs.items(), key=lambda kv: len(kv[1]))
    return _merge(tr, runs, _CHANNEL), s.functions[fn], len(goroutines[fn])


def _attach(tr: ExecutionTrace, spans: list[Span], by_g: dict[int, list[int]]) -> None:
    """Give annotated spans the accounting of the segments that tile them (region edges are
    segment boundaries; a task's span is only tiled when it stays on one goroutine)."""
    s = tr.segments
    start = s.start_ns
    starts: dict[int, list[int]] = {}  # of the spans' goroutines' rows, made as needed
    tiled: list[tuple[Span, list[int]]] = []  # the spans and the rows that begin inside them
    for sp in spans:
        rows = by_g.get(sp.goroutine)
        if not rows:
            continue
        g_starts = starts.get(sp.goroutine)
        if g_starts is None:
            g_starts = starts[sp.goroutine] = list(map(start.__getitem__, rows))
        inside: list[int] = []
        for i in range(bisect.bisect_left(g_starts, sp.start), len(rows)):
            if g_starts[i] >= sp.end:
                break
            inside.append(rows[i])
        if inside and start[inside[0]] == sp.start:
            tiled.append((sp, inside))
    # Their rows' ends, read at once: the rows must end inside the span, the last at its end.
    ends = iter(s.ends(list(itertools.chain.from_iterable(rows for _, rows in tiled))))
    fits: list[tuple[Span, list[int]]] = []
    for sp, rows in tiled:
        row_ends = list(itertools.islice(ends, len(rows)))
        if row_ends[-1] == sp.end and max(row_ends) <= sp.end:
            fits.append((sp, rows))
    for (sp, _), merged in zip(fits, _merge(tr, [rows for _, rows in fits], _CHANNEL), strict=True):
        sp.acc = merged.acc


def infer_requests(tr: ExecutionTrace) -> Requests:
    """The request spans of ``tr`` and how they were found."""
    regions = [r for r in tr.regions if r.start_ns is not None and r.end_ns is not None]
    if len(regions) >= MIN_REQUESTS:
        names = Counter(r.name for r in regions)
        name = names.most_common(1)[0][0]
        spans = [Span(r.start_ns or 0, r.end_ns or 0, r.goroutine) for r in regions if r.name == name]
        _attach(tr, spans, _segment_rows(tr, {sp.goroutine for sp in spans}))
        return Requests("regions", spans, f"user region {name!r}")
    tasks = [t for t in tr.tasks if t.start_ns is not None and t.end_ns is not None]
    if len(tasks) >= MIN_REQUESTS:
        names = Counter(t.name for t in tasks)
        name = names.most_common(1)[0][0]
        spans = [Span(t.start_ns or 0, t.end_ns or 0, t.goroutine) for t in tasks if t.name == name]
        _attach(tr, spans, _segment_rows(tr, {sp.goroutine for sp in spans}))
        return Requests("tasks", spans, f"user task {name!r}")
    by_g = _segment_rows(tr)
    http = _http1(tr, by_g)
    if len(http) >= MIN_REQUESTS:
        return Requests("http1-conn", http, "net/http connection goroutines, first run after the network "
                        "wake-up to the end of the response write", root=HTTP_CONN_SERVE)
    lives, fn = _lives(tr, by_g)
    if len(lives) >= MIN_REQUESTS:
        return Requests("goroutine", lives, f"lives of goroutines started at {fn}", root=fn)
    jobs, fn, workers = _workers(tr, by_g)
    if len(jobs) >= MIN_REQUESTS:
        return Requests("worker", jobs, f"channel-receive to channel-receive segments of {fn} ({workers} "
                        "goroutines)", root=fn)
    found = max(len(regions), len(tasks), len(http), len(lives), len(jobs))
    if found:
        why = (f"only {found} request-like span(s) completed inside the trace (at least {MIN_REQUESTS} are "
               "needed for percentiles)")
    else:
        why = ("no requests found: no user regions or tasks, no net/http connection woke from the network to "
               "serve one, and no goroutines were started per request or fed jobs through a channel")
    return Requests(None, why_none=why)
