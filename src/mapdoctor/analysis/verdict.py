"""From Evidence to causes and a verdict.

Every cause drawn from sampled data carries the 95 % interval of its share (``stats.Share``);
it is ``confirmed`` when the interval's lower bound clears the cause's threshold and
``probable`` when only the point estimate does. Only confirmed causes decide the verdict, so a
share that hovers around a threshold gives the same answer run after run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mapdoctor.analysis import thresholds as T
from mapdoctor.analysis.advice import GENERIC, SYNC_MAP_ADVICE
from mapdoctor.analysis.costs import CostBreakdown, SiteKey, most_common
from mapdoctor.analysis.evidence import Evidence
from mapdoctor.analysis.findings import Cause, CauseKind, Diagnosis, Site, Verdict
from mapdoctor.analysis.frametable import SHARE_KEYS, SHARE_OF, Cost
from mapdoctor.analysis.locks import lock_delay, lock_events
from mapdoctor.analysis.measures import LABEL, measure_of
from mapdoctor.analysis.request_verdict import apply as request_led
from mapdoctor.analysis.stats import CONFIRMED, PROBABLE, Share, poisson

NAMES = {CauseKind.MAP_GROWTH: "map growth", CauseKind.SLICE_GROWTH: "slice growth",
         CauseKind.SYNC_MAP: "sync.Map churn", CauseKind.LOCK_CONTENTION: "lock contention",
         CauseKind.GC_PRESSURE: "GC pressure", CauseKind.CPU_STARVATION: "CPU starvation",
         CauseKind.CONCURRENT_MAP_WRITES: "concurrent map writes", CauseKind.MAP_CREATION: "small-map creation"}

_SYNC_CHURN = (Cost.SYNC_MAP, Cost.SYNC_MAP_MISS, Cost.SYNC_MAP_NEWKEY)
_MAP_ACCESS = (Cost.MAP_WRITE, Cost.MAP_READ, Cost.MAP_DELETE, Cost.MAP_ITER)
_LOCK_COSTS = (Cost.LOCK, Cost.LOCK_WAIT)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _sites(counter_items: list[tuple[SiteKey, float]], total: float, kind: CauseKind,
           advice: str | None = None) -> list[Site]:
    out: list[Site] = []
    for (function, file, line), value in counter_items:
        if not total or value / total < 0.01:
            continue
        out.append(Site(function, file, line, value / total, (advice or GENERIC[kind]) if not out else ""))
    return out


def shares(cpu: CostBreakdown | None) -> dict[str, float]:
    result = dict.fromkeys(SHARE_KEYS, 0.0)
    if cpu is None or not cpu.total:
        return result
    for cost, value in cpu.by_cost.items():
        result[SHARE_OF[cost]] += value / cpu.total
    return result


def share_intervals(cpu: CostBreakdown | None) -> dict[str, tuple[float, float]]:
    """The 95 % interval of every share, from the CPU sample count."""
    if cpu is None or not cpu.total or not cpu.samples:
        return {}
    return {k: (round((s := Share.of_fraction(v, cpu.samples)).low, 4), round(s.high, 4))
            for k, v in shares(cpu).items()}


_TYPE_ARGS = re.compile(r"\[[^\[\]]*\]")


def _top_funcs(cpu: CostBreakdown, costs: Iterable[Cost], n: int = 4) -> str:
    names: dict[str, float] = {}
    for c in costs:
        for name, v in cpu.decided_by[c].items():
            short = _TYPE_ARGS.sub("[...]", name)  # generic instantiations: go.shape.interface {}, ...
            names[short] = names.get(short, 0.0) + v
    return ", ".join(name for name, _ in most_common(names, n))


@dataclass(slots=True)
class _Found:
    """A CPU cause being built: what it owns, for charging GC work to it."""

    cause: Cause
    costs: tuple[Cost, ...]
    site_keys: set[SiteKey]


def _cpu_causes(ev: Evidence, cpu: CostBreakdown, notes: list[str]) -> list[Cause]:
    seconds = cpu.total / 1e9 if cpu.unit == "nanoseconds" else 0.0

    def of_cpu(share: Share, amount: float) -> str:
        if seconds:
            return f"{share.text()} of sampled CPU ({amount / 1e9:.2f} s of {seconds:.2f} s)"
        return f"{share.text()} of sampled CPU"

    def assists_for(costs: Iterable[Cost]) -> float:
        return sum(cpu.assist_charged_to.get(c, 0.0) for c in costs) / cpu.total if cpu.total else 0.0

    def assist_line(costs: tuple[Cost, ...]) -> list[str]:
        a = assists_for(costs)
        return [f"plus {_pct(a)} in GC mark assists its allocations triggered (counted in the score)"] \
            if a >= 0.005 else []

    found: list[_Found] = []

    def add(kind: CauseKind, costs: tuple[Cost, ...], threshold: float, what: str, more: list[str],
            advice: str | None = None) -> Cause | None:
        """A cause when the share of ``costs`` reaches ``threshold``; ``what`` follows the share."""
        base = cpu.interval(costs)
        # Judged with the mark assists its own allocations pay inside its frames: they are part
        # of what it costs (on Go 1.23, growslice's own share is often a third of its assists).
        assists = assists_for(costs)
        score = base.plus(assists)
        status = score.status(threshold)
        if status is None:
            return None
        sites_src = cpu.sites_of(costs)
        amount = sum(cpu.by_cost[c] for c in costs)
        evidence = [f"{of_cpu(base, amount)} {what}", *more, *assist_line(costs)]
        few = _few_samples(status, score, cpu.samples)
        if few:
            status = PROBABLE
            evidence.append(few)
        elif status == PROBABLE:
            evidence.append(f"probably: the share is at least {_pct(threshold)} by its estimate, but its 95% "
                            f"interval reaches down to {_pct(score.low)}; a longer profile would tell")
        cause = Cause(kind, score.value, evidence, _sites(most_common(sites_src, 5), amount, kind, advice),
                      interval=score, status=status, threshold=threshold, assists=assists)
        found.append(_Found(cause, costs, set(sites_src)))
        return cause

    access = cpu.share_of(_MAP_ACCESS)
    add(CauseKind.MAP_GROWTH, (Cost.MAP_GROWTH,), T.MAP_GROWTH_MIN,
        "is map growth: " + _top_funcs(cpu, (Cost.MAP_GROWTH,)),
        [f"for comparison, plain map access (hashing, probing) is {_pct(access)}"])
    add(CauseKind.SLICE_GROWTH, (Cost.SLICE_GROWTH,), T.SLICE_GROWTH_MIN,
        "is runtime.growslice called from user code (append past capacity: allocate, copy, and garbage "
        "for the GC)", [])
    _sync_map(cpu, add, notes)
    add(CauseKind.MAP_CREATION, (Cost.MAP_MAKE_SMALL,), T.MAP_CREATION_MIN,
        "creates small maps: " + _top_funcs(cpu, (Cost.MAP_MAKE_SMALL,)) + " (each map made without a "
        "hint, or with one up to 8, allocates its first group/bucket on its first insert; no size hint "
        "avoids that)", [])

    gc = _gc_pressure(ev, cpu, found, assists_for)
    return [f.cause for f in found] + ([gc] if gc is not None else [])


def _sync_map(cpu: CostBreakdown, add: Callable[..., Cause | None], notes: list[str]) -> None:
    """sync.Map, told apart by operation: only writes and locked read misses are churn."""
    reads, misses = cpu.share(Cost.SYNC_MAP_READ), cpu.share(Cost.SYNC_MAP_MISS)
    new_keys, writes = cpu.share(Cost.SYNC_MAP_NEWKEY), cpu.share(Cost.SYNC_MAP)
    churn = misses + new_keys + writes
    if reads + churn < 0.01:
        return
    breakdown = (f"sync.Map operations: {_pct(reads)} reads (Load, Range), {_pct(misses)} reads that missed "
                 f"the read-only part and took the lock, {_pct(new_keys)} stores of new keys (dirty-map "
                 f"copies and inserts, hash-trie nodes), {_pct(writes)} other writes (Store/Swap of existing "
                 f"keys, Delete, locking)")
    if new_keys >= max(misses, writes) or new_keys >= 0.4 * churn:
        pattern = "new_keys"
    elif misses >= writes:
        pattern = "misses"
    else:
        pattern = "updates"
    cause = add(CauseKind.SYNC_MAP, _SYNC_CHURN, T.SYNC_MAP_MIN,
                "is sync.Map churn: " + _top_funcs(cpu, _SYNC_CHURN), [breakdown], SYNC_MAP_ADVICE[pattern])
    if cause is not None and cause.sites:
        # CPU shares of the operations, for ``mapdoctor bench``'s mix: a proxy for their counts
        # (a store of a new key costs more than a read), so the bench says so.
        cause.sites[0].detail["operations"] = {"pattern": pattern, "reads": round(reads, 4),
                                               "misses": round(misses, 4), "new_keys": round(new_keys, 4),
                                               "updates": round(writes, 4)}
    if reads >= T.SYNC_MAP_MIN and churn < T.SYNC_MAP_MIN:
        notes.append(f"sync.Map reads cost {_pct(reads)} of CPU ({_pct(churn)} in writes and locked misses): "
                     "read-mostly use, what sync.Map is built for — not a cause")


def _alloc_fractions(ev: Evidence, cpu: CostBreakdown, found: list[_Found]) -> tuple[dict[int, float], str]:
    """For each found cause, the share of the program's allocation it is responsible for, and
    where that figure comes from. The GC runs because of allocation: its background work is
    charged to the allocating sites in proportion."""
    out: dict[int, float] = {}
    a = ev.allocs
    if a is not None and a.total_bytes > 0:
        by_line: dict[tuple[str, int], float] = {}
        for (_fn, file, line), b in a.by_site.items():
            by_line[(file, line)] = by_line.get((file, line), 0.0) + b
        for i, f in enumerate(found):
            lines = {(file, line) for _fn, file, line in f.site_keys if file}
            out[i] = sum(by_line.get(k, 0.0) for k in lines) / a.total_bytes
        return out, f"of the bytes allocated [{a.source}]"
    # No allocation profile: GC mark assists are a sample of allocation (an allocating goroutine
    # pays assist work in proportion to what it allocates), so they tell who allocates.
    assists = cpu.by_cost[Cost.GC_ASSIST]
    if cpu.count_by_cost[Cost.GC_ASSIST] < T.MIN_ASSIST_SAMPLES or not assists:
        return {}, ""
    for i, f in enumerate(found):
        out[i] = sum(cpu.assist_charged_to.get(c, 0.0) for c in f.costs) / assists
    return out, "of the GC mark assists, which allocating goroutines pay in proportion to what they allocate"


def _few_samples(status: str | None, share: Share, samples: float) -> str:
    """Why a share that clears its threshold is still only probable, for a profile this short;
    "" when it may be confirmed (see ``thresholds.FEW_SAMPLES_CONFIRM``)."""
    if status != CONFIRMED or samples >= T.MIN_CPU_SAMPLES or share.low >= T.FEW_SAMPLES_CONFIRM:
        return ""
    return (f"probably: only {samples:.0f} CPU samples in the profile, and below {T.MIN_CPU_SAMPLES} a cause "
            f"is confirmed only when it holds most of the CPU; a longer profile would tell")


def _gc_pressure(ev: Evidence, cpu: CostBreakdown, found: list[_Found],
                 assists_for: Callable[[Iterable[Cost]], float]) -> Cause | None:
    owned = sum(assists_for(f.costs) for f in found)
    background = cpu.share(Cost.GC)
    assists = max(0.0, cpu.share(Cost.GC_ASSIST) - owned)
    malloc = cpu.share(Cost.MALLOC)
    gc_work = background + assists
    # What the user sees as "GC pressure": all allocation and collection work, whoever pays it.
    total = Share.of_fraction(background + cpu.share(Cost.GC_ASSIST) + malloc, cpu.samples)
    fractions, basis = _alloc_fractions(ev, cpu, found)
    charged_total = 0.0
    drivers: list[tuple[Cause, float]] = []
    for i, f in enumerate(found):
        frac = fractions.get(i, 0.0)
        charge = gc_work * frac
        if charge < 0.005 or f.cause.status != CONFIRMED:
            continue  # a probable cause keeps the share it was judged on
        c = f.cause
        c.gc_charged = charge
        c.score += charge
        if c.interval is not None:
            c.interval = c.interval.plus(charge)
        c.evidence.append(f"plus {_pct(charge)} of CPU in garbage collection its allocations drive: it makes "
                          f"{_pct(frac)} {basis} (counted in the score)")
        charged_total += charge
        drivers.append((c, frac))
    rest = Share.of_fraction(gc_work - charged_total + malloc, cpu.samples)
    charged_frac = sum(fractions.get(i, 0.0) for i, f in enumerate(found) if f.cause.status == CONFIRMED)
    rest_assists = Share.of_fraction(assists * (1 - charged_frac), cpu.samples)
    status = rest.status(T.GC_MIN) or rest_assists.status(T.GC_ASSIST_MIN)
    few = _few_samples(status, rest if rest.status(T.GC_MIN) else rest_assists, cpu.samples)
    if few:
        status = PROBABLE
    if status is None:
        if drivers and total.status(T.GC_MIN) is not None:
            # What the user sees is GC pressure; what causes it is the growth above.
            top, frac = max(drivers, key=lambda d: d[1])
            where = f" at {top.sites[0].file}:{top.sites[0].line}" if top.sites and top.sites[0].file else ""
            top.evidence.insert(0, f"GC pressure, driven by {NAMES[top.kind]}{where}: allocation and garbage "
                                   f"collection take {total.text()} of CPU, and {_pct(frac)} {basis} come from "
                                   f"this cause")
        return None
    evidence = [f"{rest.text()} of sampled CPU is allocation and garbage collection not explained by a cause "
                f"above ({_pct(background)} background marking/sweeping, {_pct(assists)} mark assists, "
                f"{_pct(malloc)} allocating, less {_pct(charged_total)} charged to the causes that drive it)"]
    if few:
        evidence.append(few)
    elif status == PROBABLE:
        evidence.append(f"probably: at least {_pct(T.GC_MIN)} by its estimate, but its 95% interval reaches down "
                        f"to {_pct(rest.low)}; a longer profile would tell")
    sites_src = dict(cpu.by_site[Cost.MALLOC])
    for k, v in cpu.assist_by_site.items():
        sites_src[k] = sites_src.get(k, 0.0) + v
    sites = _sites(most_common(sites_src, 5), sum(sites_src.values()), CauseKind.GC_PRESSURE)
    return Cause(CauseKind.GC_PRESSURE, rest.value, evidence, sites, interval=rest, status=status,
                 threshold=T.GC_MIN)


def _ratio_interval(wait: float, wait_events: float, cores: float, cpu_samples: float) -> tuple[float, float]:
    """Bounds of wait / (wait + cores), each rate known to the Poisson error of its count."""
    def bounds(x: float, k: float) -> tuple[float, float]:
        if k <= 0:
            return x, x
        lo, hi = poisson(k)
        return x * lo / k, x * hi / k

    w_lo, w_hi = bounds(wait, wait_events)
    c_lo, c_hi = bounds(cores, cpu_samples)
    low = w_lo / (w_lo + c_hi) if (w_lo + c_hi) else 0.0
    high = w_hi / (w_hi + c_lo) if (w_hi + c_lo) else 1.0
    return low, high


def _lock_cause(ev: Evidence) -> Cause | None:
    """Lock contention from whatever shows it: delay profiles, CPU in lock operations, dumps."""
    candidates: list[tuple[Share, str, list[Site]]] = []
    cpu = ev.cpu
    cores = 0.0
    if cpu is not None and cpu.duration_ns and cpu.unit == "nanoseconds":
        cores = cpu.total / cpu.duration_ns
    locks = ev.locks
    if locks is not None and locks.duration_ns and lock_delay(locks) > 0:
        delay = lock_delay(locks)
        events = lock_events(locks)
        wait = delay / locks.duration_ns  # goroutines waiting, on average
        score = wait / (wait + cores) if (wait + cores) else 0.0
        low, high = _ratio_interval(wait, events, cores, cpu.samples if cpu is not None and cores else 0)
        if not cores:
            low = min(low, T.LOCK_MIN - 1e-9)  # nothing to compare with: never more than probable
        share = Share(score, min(low, score), max(high, score), round(events), "events")
        line = (f"goroutines spent {delay / 1e9:.2f} s waiting on locks in {locks.duration_ns / 1e9:.1f} s "
                f"({wait:.1f} goroutines waiting on average, vs {cores:.2f} cores running; "
                f"{share.count_text()}) [{locks.source}]")
        sites_src = locks.sites_of(_LOCK_COSTS)
        candidates.append((share, line, _sites(most_common(sites_src, 5), delay, CauseKind.LOCK_CONTENTION)))
    if cpu is not None and cpu.total and cpu.samples:
        share = cpu.interval(_LOCK_COSTS)
        if share.value >= 0.01:
            line = (f"{share.text()} of sampled CPU is in lock operations ({_pct(cpu.share(Cost.LOCK_WAIT))} in "
                    f"slow paths: spinning, parking, hand-off) [{cpu.source}]")
            amount = sum(cpu.by_cost[c] for c in _LOCK_COSTS)
            candidates.append((share, line, _sites(most_common(cpu.sites_of(_LOCK_COSTS), 5), amount,
                                                   CauseKind.LOCK_CONTENTION)))
    for d in ev.dumps:
        waiting, handing = sum(d.lock_waiters.values()), sum(d.handoffs.values())
        if not waiting + handing:
            continue
        share = Share.of(waiting + handing, waiting + handing + d.working, "goroutines")
        if waiting + handing < T.MIN_DUMP_WAITERS:
            share = Share(share.value, min(share.low, T.LOCK_MIN - 1e-9), share.high, share.samples, share.unit)
        line = (f"{waiting} goroutines were waiting on a lock, {handing} handing one over and {d.working} "
                f"working when {d.path} was taken ({share.text()} of the busy goroutines)")
        # The waiters' line is where to act; the hand-offs' (Unlock) only when nobody was caught waiting.
        by_site = d.lock_waiters or d.handoffs
        candidates.append((share, line, _sites(most_common(dict(by_site), 5), sum(by_site.values()),
                                               CauseKind.LOCK_CONTENTION)))
    if not candidates:
        return None
    rank = {CONFIRMED: 2, PROBABLE: 1, None: 0}
    best = max(candidates, key=lambda c: (rank[c[0].status(T.LOCK_MIN)], c[0].value))
    status = best[0].status(T.LOCK_MIN)
    if status is None:
        return None
    evidence = [best[1], *(c[1] for c in candidates if c is not best)]
    if status == PROBABLE:
        evidence.append(f"probably: at least {_pct(T.LOCK_MIN)} by its estimate, but its 95% interval reaches down "
                        f"to {_pct(best[0].low)}")
    sites = best[2] or next((c[2] for c in candidates if c[2]), [])
    return Cause(CauseKind.LOCK_CONTENTION, best[0].value, evidence, sites, interval=best[0], status=status,
                 threshold=T.LOCK_MIN)


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
    # Allocation sizes show that a map grows, not what it costs: never more than probable.
    return [Cause(CauseKind.MAP_GROWTH, series_bytes / a.total_bytes * 0.5, ev_lines, sites, status=PROBABLE,
                  threshold=T.ALLOC_SERIES_MIN, measure="alloc_bytes")]


def _crash_causes(ev: Evidence) -> list[Cause]:
    causes: list[Cause] = []
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
    return causes


def decide(ev: Evidence, timeline_lines: list[str] | None = None) -> Diagnosis:
    notes = list(ev.notes)
    cpu = ev.cpu
    causes = _crash_causes(ev)
    idle = False
    if cpu is not None:
        # A CPU profile with (almost) no samples over its window is evidence too: of idleness.
        if ev.cpu_cores is not None and ev.cpu_cores < T.IDLE_CORES:
            idle = True
        elif cpu.total:
            causes.extend(_cpu_causes(ev, cpu, notes))
    lock = _lock_cause(ev)
    if lock is not None:
        causes.append(lock)
    causes.extend(_alloc_causes(ev, {c.kind for c in causes}))
    if ev.gc is not None:
        for c in causes:
            if c.kind is CauseKind.GC_PRESSURE or c.gc_charged:
                gc_log = ev.gc
                c.evidence.append(f"gctrace: {gc_log.cycles} GC cycles in {gc_log.seconds:.1f} s, stop-the-world "
                                  f"{gc_log.stw_ms_total:.2f} ms total (max {gc_log.stw_ms_max:.2f} ms) "
                                  f"[{gc_log.source}]")
                break
    # Confirmed causes first, then the probable ones; each by score.
    causes.sort(key=lambda c: (c.status != CONFIRMED, -c.score))
    if timeline_lines:
        for c in causes:
            if c.kind is CauseKind.MAP_GROWTH:
                c.evidence.extend(timeline_lines)
                break
        else:
            notes.extend(timeline_lines)

    have_cpu = cpu is not None and (cpu.samples > 0 or idle)
    confirmed = [c for c in causes if c.status == CONFIRMED]
    # A crash is not a share of the service's time: it is reported beside the costs, and does not
    # hide a map growth that costs most of the CPU.
    costs = [c for c in confirmed if c.kind is not CauseKind.CONCURRENT_MAP_WRITES]
    growth = next((c for c in costs if c.kind is CauseKind.MAP_GROWTH), None)
    top = costs[0] if costs else None
    alloc_growth = next((c for c in causes if c.kind is CauseKind.MAP_GROWTH), None) if not have_cpu else None
    if growth is not None and top is not None and growth.score >= T.MAP_GROWTH_VS_TOP * top.score:
        verdict = Verdict.MAP_GROWTH
    elif alloc_growth is not None and not ev.crashes:
        verdict = Verdict.MAP_GROWTH  # "probably", from allocation sizes alone
    elif have_cpu or causes:
        verdict = Verdict.NOT_MAP_GROWTH
    else:
        verdict = Verdict.INCONCLUSIVE

    confidence = _confidence(ev, verdict, causes, have_cpu)
    if have_cpu and cpu is not None and cpu.samples < T.MIN_CPU_SAMPLES and not idle:
        notes.append(f"only {cpu.samples:.0f} CPU samples: a longer profile would make the verdict firmer")
    summary = _summary(verdict, causes, idle, ev, have_cpu)
    return request_led(Diagnosis(verdict, summary, confidence, ev.go, shares(cpu), causes, ev.inputs, notes,
                                 ev.partial, ev.timeline, cpu_samples=round(cpu.samples) if cpu is not None else 0,
                                 share_intervals=share_intervals(cpu)), round(cpu.samples) if cpu is not None else 0)


def _confidence(ev: Evidence, verdict: Verdict, causes: list[Cause], have_cpu: bool) -> str:
    """The documented rules (docs/CLASSIFICATION.md, "Confidence").

    * high: a crash; or the cause that decides the verdict is confirmed and rests on at least
      50 samples (CPU samples, or lock contention events); or, with no cause at all, at least
      50 CPU samples;
    * medium: fewer samples, a cause that is only probable, a goroutine snapshot, or no CPU data;
    * low: the verdict rests on allocation sizes alone, or the inputs cannot tell.
    """
    if ev.crashes:
        return "high"  # the runtime itself detected the race
    if verdict is Verdict.INCONCLUSIVE:
        return "low"
    if verdict is Verdict.MAP_GROWTH and not have_cpu:
        return "low"
    confirmed = [c for c in causes if c.status == CONFIRMED]
    deciding = next((c for c in confirmed if c.kind is CauseKind.MAP_GROWTH), None) \
        if verdict is Verdict.MAP_GROWTH else (confirmed[0] if confirmed else None)
    if deciding is not None:
        iv = deciding.interval
        if iv is None or iv.unit == "goroutines":
            return "medium"
        enough = T.MIN_LOCK_EVENTS if iv.unit == "events" else T.MIN_CPU_SAMPLES
        return "high" if iv.samples >= enough else "medium"
    cpu = ev.cpu
    if not have_cpu or cpu is None:
        return "medium"
    if any(c.status == PROBABLE for c in causes):
        return "medium"
    return "high" if cpu.samples >= T.MIN_CPU_SAMPLES else "medium"


def _summary(verdict: Verdict, causes: list[Cause], idle: bool, ev: Evidence, have_cpu: bool) -> str:
    def where(c: Cause) -> str:
        return f" at {c.sites[0].file}:{c.sites[0].line}" if c.sites and c.sites[0].file else ""

    def how_much(c: Cause) -> str:
        # "97.0% ± 0.4% wait ratio, 43160 contention events": the unit beside the number, always.
        label = LABEL[measure_of(c)]
        if c.interval is None:
            return f"{_pct(c.score)} {label}"
        iv = c.interval
        if iv.lopsided:
            return (f"{_pct(iv.value)} {label}, 95% interval {100 * iv.low:.1f}-{100 * iv.high:.1f}%, "
                    f"{iv.count_text()}")
        return f"{_pct(iv.value)} ± {100 * iv.half_width:.1f}% {label}, {iv.count_text()}"

    crash = next((c for c in causes if c.kind is CauseKind.CONCURRENT_MAP_WRITES), None)
    crash_tail = f"; and the program crashed on concurrent map writes{where(crash)}" if crash else ""
    if verdict is Verdict.MAP_GROWTH:
        g = next(c for c in causes if c.kind is CauseKind.MAP_GROWTH)
        rest = [NAMES[c.kind] + (" (probably)" if c.status == PROBABLE else "") for c in causes
                if c is not g and c is not crash]
        tail = f"; also {', '.join(rest)}" if rest else ""
        if not have_cpu:
            return (f"Probably: allocation sizes show a map growing without a size hint{where(g)}; "
                    f"a CPU profile or trace would confirm what it costs{tail}.")
        cost = f"{_pct(g.score)} of CPU" if g.interval is None else f"{g.interval.inline_text()} of CPU".replace(
            f", {g.interval.count_text()} of CPU", f" of CPU ({g.interval.count_text()})")
        return f"Yes: map growth costs {cost}{where(g)}{tail}{crash_tail}."
    if verdict is Verdict.INCONCLUSIVE:
        return "Cannot tell: the inputs hold no CPU profile, execution trace or crash to judge from."
    confirmed = [c for c in causes if c.status == CONFIRMED and c is not crash]
    probable = [c for c in causes if c.status == PROBABLE]
    maybe = ""
    if probable:
        p = probable[0]
        maybe = (f"; possibly {NAMES[p.kind]} ({how_much(p)}){where(p)}, too close to its threshold to tell "
                 f"from these samples")
    if crash is not None and not confirmed:
        return f"No: the program crashed on concurrent map writes{where(crash)}{maybe}."
    if not confirmed:
        if idle:
            cores = f" ({ev.cpu_cores:.2f} cores busy)" if ev.cpu_cores is not None else ""
            return f"No: the service was nearly idle during the window{cores}; nothing to blame."
        if probable:
            return (f"No cause is certain: possibly {NAMES[probable[0].kind]} ({how_much(probable[0])})"
                    f"{where(probable[0])}, too close to its threshold to tell; a longer profile would decide.")
        return "No: nothing stands out — map growth, slices, sync.Map, locks and GC are all within normal."
    top = confirmed[0]
    lead = f"No: the main cost is {NAMES[top.kind]} ({how_much(top)}){where(top)}"
    driven = next((e for e in top.evidence if e.startswith("GC pressure, driven by")), None)
    if driven is not None:
        lead = (f"No: GC pressure, driven by {NAMES[top.kind]}{where(top)}; with the GC work it causes it costs "
                f"{how_much(top)}")
    tail = ""
    if crash is not None:
        tail = f"; and the program crashed on concurrent map writes{where(crash)}"
    return f"{lead}{tail}{maybe}."
