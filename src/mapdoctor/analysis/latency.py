"""Where the slowest requests' wall time went, against the typical ones.

For the slowest 1 % of request spans and the middle 50 %, each span's wall time is split
into the categories of the JSON contract: running (split by the frame table's categories
using the trace's CPU samples on the span's goroutine: map growth, slice growth, sync.Map,
map access, GC assist, user...), ``runnable`` (waiting for a P), ``lock_wait``,
``chan_wait``, ``syscall``, ``network``, and ``stw`` (stop-the-world pauses overlapping the
span, taken from its running or runnable time). Running time that drew far fewer CPU
samples than its length implies was spent holding a P while the OS ran other processes: it
is reported (``off_cpu_ms``) but stays split by what the samples show. For runnable time it also says what the
CPUs ran meanwhile: CPU samples of other goroutines inside the slow spans.

Spans from annotations (regions, tasks) carry no scheduler accounting: their running time
is estimated from their CPU samples (10 ms each) and the rest is ``other``.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import add
from typing import Any

from mapdoctor.analysis.classify import StackClassifier, user_site
from mapdoctor.analysis.frametable import SHARE_KEYS, SHARE_OF
from mapdoctor.analysis.requests import ACCOUNTS, Requests, Span
from mapdoctor.model.stack import Frame, Stack
from mapdoctor.model.trace import WAIT_CHAN, WAIT_LOCK, CPUSample, CPUSamples, ExecutionTrace

#: Breakdown categories: the CPU ``shares`` keys, then the ways of not running.
CATEGORIES = (*SHARE_KEYS, "runnable", "lock_wait", "chan_wait", "syscall", "network", "stw")
#: Where each accounting column goes (running is split by CPU samples).
_ACCOUNT_CATEGORY = {"runnable": "runnable", "syscall": "syscall", "network": "network",
                     "lock": "lock_wait", "channel": "chan_wait", "gc_wait": "gc_assist", "other": "other"}
#: Categories whose time is spent running (a CPU sample names the site). ``lock_wait`` and
#: ``syscall`` are mostly blocked time from the goroutine's own accounting (their few CPU
#: samples, lock slow paths and syscall entry, add to it).
RUNNING = frozenset(SHARE_KEYS) - {"lock_wait", "syscall"}
SAMPLE_NS = 10_000_000
_RUN = ACCOUNTS.index("running")
_RUNNABLE = ACCOUNTS.index("runnable")
_OTHER = ACCOUNTS.index("other")


@dataclass(slots=True)
class Pause:
    start: int
    end: int
    reason: str
    stack: Stack = ()


def _ms(ns: float) -> float:
    return round(ns / 1e6, 3)


def _site(frame: Frame | None) -> dict[str, Any] | None:
    if frame is None:
        return None
    return {"function": frame.function, "file": frame.file, "line": frame.line}


class _Samples:
    """The trace's CPU samples in time order and by goroutine, as columns (their times,
    goroutines and stacks), classified once per stack."""

    def __init__(self, samples: Sequence[CPUSample], classifier: StackClassifier) -> None:
        times: Sequence[int]
        goroutines: Sequence[int]
        if isinstance(samples, CPUSamples):
            # Read its columns: making a CPUSample of each sample is most of the cost otherwise.
            times, goroutines = samples.time_ns, samples.goroutine
            stacks = list(map(samples.stacks.__getitem__, samples.stack))
        else:
            times = [s.time_ns for s in samples]
            goroutines = [s.goroutine for s in samples]
            stacks = [s.stack for s in samples]
        order = sorted(range(len(times)), key=times.__getitem__)  # stable, as sorting the samples is
        self.times = list(map(times.__getitem__, order))
        self.goroutines = list(map(goroutines.__getitem__, order))
        self.stacks = list(map(stacks.__getitem__, order))
        by_g: defaultdict[int, list[int]] = defaultdict(list)  # positions in time order
        for i, g in enumerate(self.goroutines):
            by_g[g].append(i)
        self.g_times = {g: [self.times[i] for i in ii] for g, ii in by_g.items()}
        self.g_stacks = {g: [self.stacks[i] for i in ii] for g, ii in by_g.items()}
        self._classifier = classifier
        # Keyed by the stack object: samples share one tuple per distinct stack, and hashing a
        # stack hashes every frame. (``stacks`` holds them, which keeps the ids valid.)
        self._cache: dict[int, tuple[str, Frame | None]] = {}

    def share(self, stack: Stack) -> tuple[str, Frame | None]:
        """The ``shares`` key of the stack's category, and its site."""
        got = self._cache.get(id(stack))
        if got is None:
            c = self._classifier.classify(stack)
            got = self._cache[id(stack)] = (SHARE_OF[c.cost], c.site)
        return got

    def tally(self, stacks: list[Stack], keys: Counter[str], sites: defaultdict[str, Counter[Frame | None]]) -> None:
        """Count samples (by stack) into ``keys`` by share key and ``sites`` by key and site: the
        counts and first-seen orders of counting them one by one, but each distinct stack is
        classified and hashed (a frame's hash is Python code) once."""
        counts = Counter(map(id, stacks))
        for sid, stack in dict(zip(map(id, stacks), stacks, strict=True)).items():  # first seen first
            key, site = self.share(stack)
            keys[key] += counts[sid]
            sites[key][site] += counts[sid]

    def on(self, g: int, start: int, end: int) -> list[Stack]:
        """The stacks of ``g``'s samples in [start, end]."""
        times = self.g_times.get(g)
        if not times:
            return []
        return self.g_stacks[g][bisect.bisect_left(times, start):bisect.bisect_right(times, end)]

    def during(self, start: int, end: int) -> range:
        """The positions of the samples in [start, end]."""
        return range(bisect.bisect_left(self.times, start), bisect.bisect_right(self.times, end))


def _stw_overlap(pauses: Sequence[Pause], starts: Sequence[int], a: int, b: int,
                 hit: set[int]) -> tuple[int, list[tuple[str, int]]]:
    """Nanoseconds of [a, b) under pauses, and each overlap's reason and length (in pause
    order); the pauses' indexes are added to ``hit``."""
    total = 0
    reasons: list[tuple[str, int]] = []  # a list, not a Counter: most spans overlap no pause
    k = max(0, bisect.bisect_left(starts, a) - 1)
    while k < len(pauses) and pauses[k].start < b:
        p = pauses[k]
        o = min(b, p.end) - max(a, p.start)
        if o > 0:
            total += o
            reasons.append((p.reason, o))
            hit.add(k)
        k += 1
    return total, reasons


class _Group:
    """Sums over one set of spans."""

    def __init__(self) -> None:
        self.ns: defaultdict[str, float] = defaultdict(float)
        self.wall = 0
        self.count = 0
        self.run_ns = 0.0
        self.samples: Counter[str] = Counter()
        self.sites: defaultdict[str, Counter[Frame | None]] = defaultdict(Counter)
        self.stw_reasons: Counter[str] = Counter()
        # Which pauses the spans overlapped: requests caught by the same pause are one event.
        self.stw_pauses: set[int] = set()
        self.queued = 0
        self.off_cpu = 0.0


#: The category of each accounting column but running (which the CPU samples split).
_CATEGORY_OF = [_ACCOUNT_CATEGORY.get(name, "") for name in ACCOUNTS]


def _account(group: _Group, spans: Iterable[Span], samples: _Samples, pauses: Sequence[Pause],
             sampled: bool) -> None:
    starts = [p.start for p in pauses]
    last_pause = len(pauses) - 1
    # The float sums, one per accounting column (running first): each span adds to them in
    # turn, so they are the same floats as adding to ``group.ns`` span by span, but one ``map``
    # per span adds all eight.
    sums = [group.run_ns if i == _RUN else group.ns.get(c, 0.0) for i, c in enumerate(_CATEGORY_OF)]
    stw_sum = group.ns.get("stw", 0.0)
    count = queued = wall_sum = 0
    accounted = False  # some span had an accounting (else only running and other were added to)
    owned: list[Stack] = []  # the stacks of the samples on the spans' goroutines, in span order
    for sp in spans:
        count += 1
        queued += sp.queued
        a, b = sp.start, sp.end
        wall = max(0, b - a)
        wall_sum += wall
        # Most spans overlap no pause: _stw_overlap only when the pause before the span's start
        # lasts past it or one starts inside the span (the only pauses it would look at).
        k = bisect.bisect_left(starts, a)
        if (k <= last_pause and starts[k] < b) or (k and b > a and pauses[k - 1].end > a):
            stw, reasons = _stw_overlap(pauses, starts, a, b, group.stw_pauses)
        else:
            stw, reasons = 0, []
        own = samples.on(sp.goroutine, a, b)
        owned += own
        acc = sp.acc
        if acc is None:
            run = min(wall, len(own) * SAMPLE_NS)
            stw = min(stw, wall - run)
            sums[_RUN] += run
            sums[_OTHER] += wall - run - stw
        else:
            accounted = True
            if stw:
                acc = list(acc)
                take = min(stw, acc[_RUNNABLE])
                acc[_RUNNABLE] -= take
                rest = min(stw - take, acc[_RUN])
                acc[_RUN] -= rest
                stw = take + rest
            sums = list(map(add, sums, acc))
        stw_sum += stw
        if stw:
            for reason, o in reasons:
                group.stw_reasons[reason] += o
    samples.tally(owned, group.samples, group.sites)
    group.count += count
    group.queued += queued
    group.wall += wall_sum
    if count:
        group.run_ns = sums[_RUN]
        for i, cat in enumerate(_CATEGORY_OF):
            if cat and (accounted or i == _OTHER):
                group.ns[cat] = sums[i]
        group.ns["stw"] = stw_sum
    # Running time goes to the categories of the CPU samples taken on these spans' goroutines.
    n = sum(group.samples.values())
    expected = group.run_ns / SAMPLE_NS
    if sampled and expected >= 10 and n < expected - 3 * math.sqrt(expected):
        # Far fewer samples than the running time implies (Poisson, 3 sigma): the goroutine held
        # a P while its thread was off the CPU (the OS ran other processes). Reported, not moved:
        # what the goroutine was doing is still told by its samples.
        group.off_cpu += group.run_ns - n * SAMPLE_NS
    if n:
        for key, k in group.samples.items():
            group.ns[key] += group.run_ns * k / n
    else:
        group.ns["other"] += group.run_ns


def _wait_site(tr: ExecutionTrace, kind: int, root: str) -> tuple[Frame | None, str]:
    """The heaviest wait site of this kind among the request goroutines' waits, and the
    library that holds the lock or channel when it is one (``sync.Map``)."""
    sites = [w for w in tr.segments.wait_sites if w.kind == kind and w.ns
             and (not root or any(f.function == root for f in w.stack))]
    if not sites:
        return None, ""
    stack = max(sites, key=lambda w: w.ns).stack
    within = "sync.Map" if any(f.function.startswith("sync.(*Map).") for f in stack) else ""
    return user_site(stack), within


def _ran_instead(spans: Sequence[Span], samples: _Samples, requests: set[int]) -> dict[str, Any] | None:
    """What the CPUs ran while these spans lasted: the samples of goroutines that serve no
    request (other requests doing their own work are the load, not what took the CPU)."""
    seen: set[int] = set()
    picked: list[Stack] = []
    for sp in spans:
        for i in samples.during(sp.start, sp.end):
            if i in seen or samples.goroutines[i] in requests:
                continue
            seen.add(i)
            picked.append(samples.stacks[i])
    cats: Counter[str] = Counter()
    sites: defaultdict[str, Counter[Frame | None]] = defaultdict(Counter)
    samples.tally(picked, cats, sites)
    n = sum(cats.values())
    if not n:
        return None
    key, k = cats.most_common(1)[0]
    site = sites[key].most_common(1)[0][0]
    return {"category": key, "share": round(k / n, 3), "cpu_samples": n, "site": _site(site),
            "shares": {c: round(v / n, 3) for c, v in cats.most_common(5)}}


def _summary(group: _Group, tr: ExecutionTrace, ran_instead: dict[str, Any] | None, root: str) -> dict[str, Any]:
    wall = group.wall or 1
    breakdown = {c: round(group.ns.get(c, 0.0) / wall, 4) for c in CATEGORIES}
    top_cat = max(CATEGORIES, key=lambda c: group.ns.get(c, 0.0))
    site: dict[str, Any] | None = None
    extra: dict[str, Any] = {}
    if top_cat in RUNNING and group.sites.get(top_cat):
        site = _site(group.sites[top_cat].most_common(1)[0][0])
    elif top_cat in ("lock_wait", "chan_wait"):
        frame, within = _wait_site(tr, WAIT_LOCK if top_cat == "lock_wait" else WAIT_CHAN, root)
        site = _site(frame)
        if within:
            extra["within"] = within
    elif top_cat == "runnable" and ran_instead is not None:
        site = ran_instead["site"]
    elif top_cat == "stw" and group.stw_reasons:
        extra["reason"] = group.stw_reasons.most_common(1)[0][0]
    if top_cat == "stw":
        extra["pauses"] = len(group.stw_pauses)
    sites = {c: _site(f.most_common(1)[0][0]) for c, f in group.sites.items() if f}
    return {
        "count": group.count,
        "wall_ms": _ms(group.wall / max(1, group.count)),
        "sites": sites,
        "cpu_samples": sum(group.samples.values()),
        "queued_ms": _ms(group.queued / max(1, group.count)),
        "off_cpu_ms": _ms(group.off_cpu / max(1, group.count)),
        "breakdown": breakdown,
        "top": {"category": top_cat, "share": breakdown[top_cat], "site": site, **extra},
    }


def latency_section(req: Requests, tr: ExecutionTrace, classifier: StackClassifier,
                    pauses: Sequence[Pause]) -> dict[str, Any]:
    """The ``timeline.requests`` object: count, percentiles, and the slow/typical breakdowns."""
    wall_of = [max(0, s.end - s.start) for s in req.spans]  # Span.wall, without a call per span
    order = sorted(range(len(wall_of)), key=wall_of.__getitem__)  # stable: as sorting the spans is
    spans = [req.spans[i] for i in order]
    walls = [wall_of[i] for i in order]
    n = len(spans)
    p50 = walls[n // 2]
    p99 = walls[min(n - 1, n * 99 // 100)]
    k = max(1, -(-n // 100))
    slow_spans = spans[n - k:]
    typical_spans = spans[n // 4: max(n // 4 + 1, (3 * n) // 4)]
    samples = _Samples(tr.cpu_samples, classifier)
    pauses = sorted(pauses, key=lambda p: p.start)
    slow, typical = _Group(), _Group()
    sampled = bool(tr.cpu_samples)
    _account(slow, slow_spans, samples, pauses, sampled)
    _account(typical, typical_spans, samples, pauses, sampled)
    ran = _ran_instead(slow_spans, samples, {s.goroutine for s in spans})
    slow_out = _summary(slow, tr, ran, req.root)
    slow_out["threshold_ms"] = _ms(slow_spans[0].wall)
    slow_out["ran_instead"] = ran
    return {
        "method": req.method, "detail": req.detail,
        "accounting": "scheduler" if all(s.acc is not None for s in spans) else
                      ("mixed" if any(s.acc is not None for s in spans) else "cpu-samples"),
        "count": n, "p50_ms": _ms(p50), "p99_ms": _ms(p99), "max_ms": _ms(walls[-1]),
        "slow": slow_out, "typical": _summary(typical, tr, None, req.root),
    }
