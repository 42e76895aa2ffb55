"""What the HTML report draws: the CPU flame graph, the timeline's lanes and source snippets.

The verdict is decided elsewhere; this only arranges the same inputs for drawing. Each CPU
stack is classified with the same frame table as the verdict, so a flame graph frame wears the
colour of the cost category its samples were counted in. Everything is bounded: the flame graph
keeps at most :data:`MAX_FLAME_NODES` frames (the largest; the rest stay in their caller's
width and the page says so), the request lane at most :data:`MAX_REQUESTS` spans (every slow
one kept), snippets at most :data:`MAX_SNIPPETS` sites.

The result is a plain dict, built on first use (``Diagnosis.plots.get()``: only the HTML
report asks), not part of the JSON contract. Until then it holds the loaded inputs.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.findings import CauseKind, Diagnosis
from mapdoctor.analysis.frametable import SHARE_OF
from mapdoctor.analysis.requests import infer_requests
from mapdoctor.analysis.timeline import COLLECTION_STW, MIN_BIN_NS, TARGET_BINS
from mapdoctor.analysis.trace_evidence import SAMPLE_NS
from mapdoctor.formats.detect import InputKind, LoadedInput
from mapdoctor.model.stack import Frame
from mapdoctor.model.trace import ExecutionTrace

#: Frames the flame graph keeps (each costs ~40 bytes of page; 4000 keep the lab's pages < 300 kB).
MAX_FLAME_NODES = 4000
#: Request spans drawn on the timeline (all slow ones, then an even sample of the rest).
MAX_REQUESTS = 3000
#: STW pauses and mark assists drawn as individual spans.
MAX_SPANS = 3000
MAX_SNIPPETS = 8
SNIPPET_CONTEXT = 6
#: Go files looked at under --source when matching a site's file to a source file.
MAX_SOURCE_FILES = 20000

#: The CPU category each cause is about: the lanes the timeline draws for the verdict's causes.
CAUSE_CATEGORIES: dict[CauseKind, tuple[str, ...]] = {
    CauseKind.MAP_GROWTH: ("map_growth",),
    CauseKind.SLICE_GROWTH: ("slice_growth",),
    CauseKind.SYNC_MAP: ("sync_map",),
    CauseKind.LOCK_CONTENTION: ("lock_wait",),
    CauseKind.GC_PRESSURE: ("gc", "gc_assist"),
    CauseKind.CONCURRENT_MAP_WRITES: ("map_access",),
    CauseKind.MAP_CREATION: ("map_access",),
    CauseKind.CPU_STARVATION: ("scheduler",),
}


class _Node:
    __slots__ = ("by_cat", "children", "depth", "file", "name", "stacks", "value")

    def __init__(self, name: str, file: str, depth: int) -> None:
        self.name = name
        self.file = file
        self.depth = depth
        self.value = 0.0
        self.by_cat: dict[str, float] = {}
        self.stacks: list[int] = []  # indices of the stacks through this frame
        self.children: list[_Node] = []


def _weighted_stacks(inputs: Sequence[LoadedInput]) -> tuple[list[tuple[Sequence[Frame], float]], str, str]:
    """CPU stacks (leaf first) with their nanoseconds, from the CPU profiles, else the traces' samples.

    Samples with the same locations are summed first: stacks repeat, and each distinct one is
    then classified and walked once."""
    out: list[tuple[Sequence[Frame], float]] = []
    sources: list[str] = []
    for item in inputs:
        prof = item.profile
        if item.kind is not InputKind.CPU or prof is None:
            continue
        idx = prof.value_index("cpu")
        scale = 1.0
        if idx is None:
            idx = prof.value_index("samples")
            scale = float(prof.period or 1)
        if idx is None:
            continue
        sources.append(item.path)
        by_locs: dict[tuple[int, ...], list[Any]] = {}
        for s in prof.samples:
            v = s.values[idx]
            if not v:
                continue
            key = tuple(loc.id for loc in s.locations)
            got = by_locs.get(key)
            if got is None:
                by_locs[key] = [s, v * scale]
            else:
                got[1] += v * scale
        # Frames per location, made once: a location is shared by many stacks.
        frames: dict[int, tuple[Frame, ...]] = {}
        for smp, v in by_locs.values():
            stack: list[Frame] = []
            for loc in smp.locations:
                got_frames = frames.get(loc.id)
                if got_frames is None:
                    got_frames = frames[loc.id] = loc.frames()
                stack.extend(got_frames)
            out.append((stack, v))
    if out:
        return out, "CPU profile " + ", ".join(sources), "ns"
    for item in inputs:
        if item.trace is not None and item.trace.cpu_samples:
            sources.append(item.path)
            out.extend((s.stack, float(SAMPLE_NS)) for s in item.trace.cpu_samples)
    return out, ("CPU samples in trace " + ", ".join(sources)) if out else "", "ns"


def _flame(inputs: Sequence[LoadedInput], classifier: StackClassifier) -> dict[str, Any] | None:
    stacks, source, unit = _weighted_stacks(inputs)
    if not stacks:
        return None
    # Root first, as the flame graph draws them; each distinct stack classified once.
    paths = [tuple(reversed(stack)) for stack, _ in stacks]
    weights = [w for _, w in stacks]
    cats = [SHARE_OF[classifier.classify(stack).cost] for stack, _ in stacks]

    root = _Node("all", "", 0)
    root.stacks = list(range(len(paths)))
    root.value = sum(weights)
    for i in root.stacks:
        root.by_cat[cats[i]] = root.by_cat.get(cats[i], 0.0) + weights[i]

    def children(n: _Node) -> list[_Node]:
        # Frames below n are only grouped when n is kept: the tail of a profile with a
        # million distinct frames is never built, only summed into its callers.
        by_name: dict[str, _Node] = {}
        d = n.depth
        for i in n.stacks:
            path = paths[i]
            if len(path) <= d:
                continue
            frame = path[d]
            child = by_name.get(frame.function)
            if child is None:
                child = by_name[frame.function] = _Node(frame.function, frame.file, d + 1)
            child.stacks.append(i)
            child.value += weights[i]
            child.by_cat[cats[i]] = child.by_cat.get(cats[i], 0.0) + weights[i]
        return list(by_name.values())

    # Keep the largest frames: expand from the root, always the widest frame not yet kept.
    kept = 1
    heap: list[tuple[float, int, _Node, _Node]] = []
    seq = 0
    for c in children(root):
        heapq.heappush(heap, (-c.value, seq, c, root))
        seq += 1
    while heap and kept < MAX_FLAME_NODES:
        _, _, n, parent = heapq.heappop(heap)
        parent.children.append(n)
        kept += 1
        for c in children(n):
            heapq.heappush(heap, (-c.value, seq, c, n))
            seq += 1
        n.stacks = []
    smallest = -heap[0][0] if heap else 0.0

    names: dict[str, int] = {}
    files: dict[str, int] = {}
    categories: dict[str, int] = {}

    def index(table: dict[str, int], key: str) -> int:
        if key not in table:
            table[key] = len(table)
        return table[key]

    def emit(n: _Node) -> list[Any]:
        cat = max(n.by_cat.items(), key=lambda kv: kv[1])[0]
        kids = [emit(c) for c in sorted(n.children, key=lambda c: -c.value)]
        row: list[Any] = [index(names, n.name), index(files, n.file), round(n.value / 1e6, 3),
                          index(categories, cat)]
        if kids:
            row.append(kids)
        return row

    tree = emit(root)
    return {"source": source, "unit": unit, "total_ms": round(root.value / 1e6, 3), "shown": kept,
            "capped": bool(heap), "capped_below_ms": round(smallest / 1e6, 3), "stacks": len(paths),
            "names": list(names), "files": list(files), "categories": list(categories), "tree": tree}


def _longest_trace(inputs: Sequence[LoadedInput]) -> tuple[LoadedInput, ExecutionTrace] | None:
    traces = [(i, i.trace) for i in inputs if i.trace is not None]
    if not traces:
        return None
    return max(traces, key=lambda it: it[1].end_ns - it[1].start_ns)


def _even_sample(items: list[Any], n: int) -> list[Any]:
    if len(items) <= n:
        return items
    step = len(items) / n
    return [items[int(k * step)] for k in range(n)]


def _lanes(inputs: Sequence[LoadedInput], classifier: StackClassifier,
           section: dict[str, Any]) -> dict[str, Any] | None:
    found = _longest_trace(inputs)
    if found is None:
        return None
    item, tr = found
    # The same bins as the timeline section (analysis.timeline.build_timeline).
    span = max(1, tr.end_ns - tr.start_ns)
    width = max(MIN_BIN_NS, -(-span // TARGET_BINS))
    nbins = -(-span // width)
    t0 = tr.start_ns
    per_cat: dict[str, list[int]] = {}
    for s in tr.cpu_samples:
        b = min(nbins - 1, max(0, (s.time_ns - t0) // width))
        cat = SHARE_OF[classifier.classify(s.stack).cost]
        per_cat.setdefault(cat, [0] * nbins)[b] += 1

    def ms(t: int) -> float:
        return round((t - t0) / 1e6, 3)

    end = tr.end_ns
    stw = [[ms(p.start_ns), ms(p.end_ns if p.end_ns is not None else end), p.reason] for p in tr.stw_pauses
           if p.reason not in COLLECTION_STW]
    own = [[ms(p.start_ns), ms(p.end_ns if p.end_ns is not None else end), p.reason] for p in tr.stw_pauses
           if p.reason in COLLECTION_STW]
    assists = [[ms(a.start_ns if a.start_ns is not None else t0), ms(a.end_ns if a.end_ns is not None else end)]
               for a in tr.mark_assists]
    gc = [[ms(c.start_ns), ms(c.end_ns if c.end_ns is not None else end)] for c in tr.gc_cycles
          if c.start_ns is not None]
    req = section.get("requests") or {}
    requests: list[list[Any]] = []
    total_requests = 0
    p99 = float(req.get("p99_ms") or 0.0)
    if req:
        spans = infer_requests(tr).spans
        total_requests = len(spans)
        rows = sorted(([ms(s.start), round(s.wall / 1e6, 3), s.goroutine] for s in spans), key=lambda r: r[0])
        slow = [r for r in rows if r[1] >= p99]
        rest = _even_sample([r for r in rows if r[1] < p99], max(0, MAX_REQUESTS - len(slow)))
        requests = sorted(slow + rest, key=lambda r: r[0])
    return {"source": item.path, "span_ms": round(span / 1e6, 3), "bin_ms": round(width / 1e6, 3), "bins": nbins,
            "samples": per_cat, "stw": stw[:MAX_SPANS], "stw_total": len(stw), "collection_stw": own[:MAX_SPANS],
            "assists": assists[:MAX_SPANS], "assists_total": len(assists), "gc": gc,
            "requests": requests, "requests_total": total_requests, "p99_ms": p99,
            "p50_ms": float(req.get("p50_ms") or 0.0), "request_method": req.get("method") or ""}


def _go_files(root: Path) -> list[Path]:
    out: list[Path] = []
    for p in root.rglob("*.go"):
        out.append(p)
        if len(out) >= MAX_SOURCE_FILES:
            break
    return out


def _snippets(d: Diagnosis, source_dir: Path) -> dict[str, Any]:
    """Source lines around each cause's top sites (and the line a source finding names)."""
    from mapdoctor.source.profile_match import suffix_score

    files = _go_files(source_dir)
    out: dict[str, Any] = {}
    for cause in d.causes:
        for site in cause.sites[:3]:
            key = f"{site.file}:{site.line}"
            if not site.file or key in out or len(out) >= MAX_SNIPPETS:
                continue
            best = max(files, key=lambda p: suffix_score(str(p.relative_to(source_dir)), site.file), default=None)
            if best is None or suffix_score(str(best.relative_to(source_dir)), site.file) < 1:
                continue
            try:
                lines = best.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            marks = {site.line}
            marks.update(int(f["line"]) for f in site.detail.get("source_findings", ())
                         if isinstance(f, dict) and isinstance(f.get("line"), int))
            lo = max(1, min(marks) - SNIPPET_CONTEXT)
            hi = min(len(lines), max(marks) + SNIPPET_CONTEXT)
            if lo > hi:
                continue
            out[key] = {"path": str(best.relative_to(source_dir)), "start": lo, "marks": sorted(marks),
                        "lines": [ln[:300] for ln in lines[lo - 1:hi]]}
    return out


def cause_categories(kinds: Iterable[CauseKind]) -> list[str]:
    out: list[str] = []
    for k in kinds:
        for c in CAUSE_CATEGORIES.get(k, ()):
            if c not in out:
                out.append(c)
    return out


class LazyPlots:
    """``Diagnosis.plots``: :func:`build_plots` on first :meth:`get`, then the inputs are let go."""

    def __init__(self, d: Diagnosis, inputs: Sequence[LoadedInput], classifier: StackClassifier,
                 source_dir: Path | None = None) -> None:
        self._args: tuple[Diagnosis, Sequence[LoadedInput], StackClassifier, Path | None] | None = (
            d, inputs, classifier, source_dir)
        self._value: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        if self._value is None:
            assert self._args is not None
            self._value = build_plots(*self._args)
            self._args = None
        return self._value


def build_plots(d: Diagnosis, inputs: Sequence[LoadedInput], classifier: StackClassifier,
                source_dir: Path | None = None) -> dict[str, Any]:
    """``Diagnosis.plots``: ``flame``, ``lanes`` (None without the input), ``focus`` and ``snippets``."""
    lanes = _lanes(inputs, classifier, d.timeline) if d.timeline is not None else None
    return {
        "flame": _flame(inputs, classifier),
        "lanes": lanes,
        # The categories the verdict's causes are about, in the causes' order: the timeline's lanes.
        "focus": cause_categories(c.kind for c in d.causes),
        "snippets": _snippets(d, source_dir) if source_dir is not None else {},
    }
