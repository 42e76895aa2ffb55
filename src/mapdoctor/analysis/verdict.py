"""From Evidence to causes and a verdict."""

from __future__ import annotations

from mapdoctor.analysis import thresholds as T
from mapdoctor.analysis.advice import GENERIC
from mapdoctor.analysis.costs import CostBreakdown, SiteKey, most_common
from mapdoctor.analysis.evidence import Evidence
from mapdoctor.analysis.findings import Cause, CauseKind, Diagnosis, Site, Verdict
from mapdoctor.analysis.frametable import SHARE_KEYS, SHARE_OF, Cost
from mapdoctor.analysis.request_verdict import apply as request_led


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _sites(counter_items: list[tuple[SiteKey, float]], total: float, kind: CauseKind) -> list[Site]:
    out: list[Site] = []
    for (function, file, line), value in counter_items:
        if not total or value / total < 0.01:
            continue
        out.append(Site(function, file, line, value / total, GENERIC[kind] if not out else ""))
    return out


def shares(cpu: CostBreakdown | None) -> dict[str, float]:
    result = dict.fromkeys(SHARE_KEYS, 0.0)
    if cpu is None or not cpu.total:
        return result
    for cost, value in cpu.by_cost.items():
        result[SHARE_OF[cost]] += value / cpu.total
    return result


def _top_funcs(cpu: CostBreakdown, cost: Cost, n: int = 4) -> str:
    return ", ".join(name for name, _ in most_common(cpu.decided_by[cost], n))


def _cpu_causes(ev: Evidence, cpu: CostBreakdown) -> list[Cause]:
    causes: list[Cause] = []
    seconds = cpu.total / 1e9 if cpu.unit == "nanoseconds" else 0.0

    def of_cpu(cost: Cost) -> str:
        share = cpu.share(cost)
        if seconds:
            return f"{_pct(share)} of sampled CPU ({cpu.by_cost[cost] / 1e9:.2f} s of {seconds:.2f} s)"
        return f"{_pct(share)} of sampled CPU"

    def assists_for(cost: Cost) -> float:
        return cpu.assist_charged_to.get(cost, 0.0) / cpu.total if cpu.total else 0.0

    def assist_line(cost: Cost) -> list[str]:
        a = assists_for(cost)
        return [f"plus {_pct(a)} in GC mark assists its allocations triggered (counted in the score)"] \
            if a >= 0.005 else []

    # A growth's score includes the mark assists its own allocations paid for: that GC work
    # goes away with the fix, so it belongs to the growth, not to "GC pressure".
    growth = cpu.share(Cost.MAP_GROWTH)
    if growth >= T.MAP_GROWTH_MIN:
        evidence = [f"{of_cpu(Cost.MAP_GROWTH)} is map growth: {_top_funcs(cpu, Cost.MAP_GROWTH)}",
                    *assist_line(Cost.MAP_GROWTH)]
        access = sum(cpu.share(c) for c in (Cost.MAP_WRITE, Cost.MAP_READ, Cost.MAP_DELETE, Cost.MAP_ITER))
        evidence.append(f"for comparison, plain map access (hashing, probing) is {_pct(access)}")
        causes.append(Cause(CauseKind.MAP_GROWTH, growth + assists_for(Cost.MAP_GROWTH), evidence,
                            _sites(cpu.top_sites(Cost.MAP_GROWTH), cpu.by_cost[Cost.MAP_GROWTH],
                                   CauseKind.MAP_GROWTH)))
    slices = cpu.share(Cost.SLICE_GROWTH)
    if slices >= T.SLICE_GROWTH_MIN:
        causes.append(Cause(CauseKind.SLICE_GROWTH, slices + assists_for(Cost.SLICE_GROWTH),
                            [f"{of_cpu(Cost.SLICE_GROWTH)} is runtime.growslice called from user code "
                             "(append past capacity: allocate, copy, and garbage for the GC)",
                             *assist_line(Cost.SLICE_GROWTH)],
                            _sites(cpu.top_sites(Cost.SLICE_GROWTH), cpu.by_cost[Cost.SLICE_GROWTH],
                                   CauseKind.SLICE_GROWTH)))
    sync_map = cpu.share(Cost.SYNC_MAP)
    if sync_map >= T.SYNC_MAP_MIN:
        causes.append(Cause(CauseKind.SYNC_MAP, sync_map + assists_for(Cost.SYNC_MAP),
                            [f"{of_cpu(Cost.SYNC_MAP)} is inside sync.Map: {_top_funcs(cpu, Cost.SYNC_MAP)}",
                             *assist_line(Cost.SYNC_MAP)],
                            _sites(cpu.top_sites(Cost.SYNC_MAP), cpu.by_cost[Cost.SYNC_MAP], CauseKind.SYNC_MAP)))
    # GC pressure: background GC plus the assists not already counted in a growth cause.
    owned = sum(assists_for(c) for c in (Cost.MAP_GROWTH, Cost.SLICE_GROWTH, Cost.SYNC_MAP)
                if any(x.kind.value == c.value for x in causes))
    assist = cpu.share(Cost.GC_ASSIST) - owned
    gc = cpu.share(Cost.GC) + assist
    if gc >= T.GC_MIN or assist >= T.GC_ASSIST_MIN:
        evidence = [f"{_pct(gc)} of sampled CPU is garbage collection not explained by a growth above "
                    f"({_pct(cpu.share(Cost.GC))} background marking/sweeping, {_pct(assist)} mark assists)"]
        malloc = cpu.share(Cost.MALLOC)
        if malloc >= 0.01:
            evidence.append(f"and {_pct(malloc)} is allocation (mallocgc) itself")
        sites_src = dict(cpu.by_site[Cost.MALLOC])
        for k, v in cpu.assist_by_site.items():
            sites_src[k] = sites_src.get(k, 0.0) + v
        sites = _sites(most_common(sites_src, 5), sum(sites_src.values()), CauseKind.GC_PRESSURE)
        causes.append(Cause(CauseKind.GC_PRESSURE, gc, evidence, sites))
    return causes


def _lock_cause(ev: Evidence, locks: CostBreakdown) -> Cause | None:
    delay = locks.by_cost[Cost.LOCK_WAIT]
    if not delay or not locks.duration_ns:
        return None
    wait_rate = delay / locks.duration_ns  # goroutines waiting, on average
    cpu_rate = 0.0
    if ev.cpu is not None and ev.cpu.duration_ns and ev.cpu.unit == "nanoseconds":
        cpu_rate = ev.cpu.total / ev.cpu.duration_ns
    score = wait_rate / (wait_rate + cpu_rate) if (wait_rate + cpu_rate) else 0.0
    if score < T.LOCK_MIN:
        return None
    evidence = [f"goroutines spent {delay / 1e9:.2f} s waiting on locks in {locks.duration_ns / 1e9:.1f} s "
                f"({wait_rate:.1f} goroutines waiting on average, vs {cpu_rate:.2f} cores running) "
                f"[{locks.source}]"]
    for d in ev.dumps:
        n = sum(d.lock_waiters.values())
        if n:
            evidence.append(f"{n} of {d.goroutines} goroutines were waiting on a mutex in {d.path}")
    return Cause(CauseKind.LOCK_CONTENTION, score, evidence,
                 _sites(locks.top_sites(Cost.LOCK_WAIT), delay, CauseKind.LOCK_CONTENTION))


def _alloc_causes(ev: Evidence, have: set[CauseKind]) -> list[Cause]:
    """Growth seen only in allocation sizes: reported when the CPU data did not already show it."""
    a = ev.allocs
    # CPU samples name the runtime frames that allocation profiles strip: when there are any,
    # they decide, and doubling sizes (a sync.Map's dirty map, a pre-sized map's one big
    # block...) must not add a second opinion.
    if ev.cpu is not None and ev.cpu.samples:
        return []
    if a is None or not a.total_bytes or CauseKind.MAP_GROWTH in have or CauseKind.SLICE_GROWTH in have:
        return []
    series_bytes = sum(s.bytes for s in a.series)
    if series_bytes / a.total_bytes < T.ALLOC_SERIES_MIN:
        return []
    sites: list[Site] = []
    for s in a.series[:5]:
        f, file, line = s.site
        sites.append(Site(f, file, line, s.bytes / series_bytes, GENERIC[CauseKind.MAP_GROWTH] if not sites else "",
                          {"block_sizes": s.sizes}))
    top = a.series[0]
    ev_lines = [
        f"{_pct(series_bytes / a.total_bytes)} of allocated bytes come in blocks whose size keeps doubling at one "
        f"line ({top.sizes[0]} B -> {top.sizes[-1]} B in {len(top.sizes) - 1} steps at "
        f"{top.site[1]}:{top.site[2]}): the signature of a map growing without a size hint [{a.source}]",
        "allocation profiles hide runtime frames: a CPU profile or execution trace would confirm it",
    ]
    return [Cause(CauseKind.MAP_GROWTH, series_bytes / a.total_bytes * 0.5, ev_lines, sites)]


def decide(ev: Evidence, timeline_lines: list[str] | None = None) -> Diagnosis:
    causes: list[Cause] = []
    notes = list(ev.notes)
    cpu = ev.cpu
    for crash in ev.crashes:
        # Both racing goroutines often stand on the same line: one site, naming each goroutine.
        by_line: dict[SiteKey, list[int]] = {}
        for g, fr in crash.writers:
            by_line.setdefault((fr.function, fr.file, fr.line), []).append(g.id)
        total = max(1, len(crash.writers))
        sites = [Site(f, file, line, len(gids) / total,
                      GENERIC[CauseKind.CONCURRENT_MAP_WRITES] if i == 0 else "", {"goroutines": gids})
                 for i, ((f, file, line), gids) in enumerate(by_line.items())]
        evidence = [f"the program crashed with `fatal error: {crash.message}` ({crash.path})"]
        if len(crash.writers) < 2:
            evidence.append("only the faulting goroutine is printed (Go >= 1.26 default); run with "
                            "GOTRACEBACK=all to see the other writer")
        causes.append(Cause(CauseKind.CONCURRENT_MAP_WRITES, 1.0, evidence, sites))
    idle = False
    if cpu is not None:
        # A CPU profile with (almost) no samples over its window is evidence too: of idleness.
        if ev.cpu_cores is not None and ev.cpu_cores < T.IDLE_CORES:
            idle = True
        elif cpu.total:
            causes.extend(_cpu_causes(ev, cpu))
    if ev.locks is not None:
        lock = _lock_cause(ev, ev.locks)
        if lock is not None:
            causes.append(lock)
    causes.extend(_alloc_causes(ev, {c.kind for c in causes}))
    if ev.gc is not None:
        for c in causes:
            if c.kind is CauseKind.GC_PRESSURE:
                gc_log = ev.gc
                c.evidence.append(f"gctrace: {gc_log.cycles} GC cycles in {gc_log.seconds:.1f} s, stop-the-world "
                                  f"{gc_log.stw_ms_total:.2f} ms total (max {gc_log.stw_ms_max:.2f} ms) "
                                  f"[{gc_log.source}]")
    causes.sort(key=lambda c: -c.score)
    if timeline_lines:
        for c in causes:
            if c.kind is CauseKind.MAP_GROWTH:
                c.evidence.extend(timeline_lines)
                break
        else:
            notes.extend(timeline_lines)

    have_cpu = cpu is not None and (cpu.samples > 0 or idle)
    growth = next((c for c in causes if c.kind is CauseKind.MAP_GROWTH), None)
    top = causes[0] if causes else None
    if growth is not None and top is not None and growth.score >= T.MAP_GROWTH_VS_TOP * top.score \
            and top.kind is not CauseKind.CONCURRENT_MAP_WRITES:
        verdict = Verdict.MAP_GROWTH
    elif have_cpu or causes:
        verdict = Verdict.NOT_MAP_GROWTH
    else:
        verdict = Verdict.INCONCLUSIVE

    confidence = "high"
    if not have_cpu:
        confidence = "low" if verdict is not Verdict.NOT_MAP_GROWTH or not causes else "medium"
    elif cpu is not None and cpu.samples < T.MIN_CPU_SAMPLES and not idle:
        confidence = "medium"
        notes.append(f"only {cpu.samples} CPU samples: a longer profile would make the verdict firmer")
    if growth is not None and verdict is Verdict.MAP_GROWTH and not have_cpu:
        confidence = "low"
    if ev.crashes:
        confidence = "high"  # the runtime itself detected the race

    summary = _summary(verdict, causes, idle, ev, have_cpu)
    return request_led(Diagnosis(verdict, summary, confidence, ev.go, shares(cpu), causes, ev.inputs, notes,
                                 ev.partial, ev.timeline), cpu.samples if cpu is not None else 0)


def _summary(verdict: Verdict, causes: list[Cause], idle: bool, ev: Evidence, have_cpu: bool) -> str:
    def where(c: Cause) -> str:
        return f" at {c.sites[0].file}:{c.sites[0].line}" if c.sites and c.sites[0].file else ""

    names = {CauseKind.MAP_GROWTH: "map growth", CauseKind.SLICE_GROWTH: "slice growth",
             CauseKind.SYNC_MAP: "sync.Map churn", CauseKind.LOCK_CONTENTION: "lock contention",
             CauseKind.GC_PRESSURE: "GC pressure", CauseKind.CONCURRENT_MAP_WRITES: "concurrent map writes"}
    if verdict is Verdict.MAP_GROWTH:
        g = next(c for c in causes if c.kind is CauseKind.MAP_GROWTH)
        rest = [names[c.kind] for c in causes if c is not g]
        tail = f"; also {', '.join(rest)}" if rest else ""
        if not have_cpu:
            return (f"Probably: allocation sizes show a map growing without a size hint{where(g)}; "
                    f"a CPU profile or trace would confirm what it costs{tail}.")
        return f"Yes: map growth costs {_pct(g.score)} of CPU{where(g)}{tail}."
    if verdict is Verdict.INCONCLUSIVE:
        return "Cannot tell: the inputs hold no CPU profile, execution trace or crash to judge from."
    if not causes:
        if idle:
            cores = f" ({ev.cpu_cores:.2f} cores busy)" if ev.cpu_cores is not None else ""
            return f"No: the service was nearly idle during the window{cores}; nothing to blame."
        return "No: nothing stands out — map growth, slices, sync.Map, locks and GC are all within normal."
    top = causes[0]
    if top.kind is CauseKind.CONCURRENT_MAP_WRITES:
        return f"No: the program crashed on concurrent map writes{where(top)}."
    return f"No: the main cost is {names[top.kind]} ({_pct(top.score)}){where(top)}."
