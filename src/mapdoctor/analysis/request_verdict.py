"""The verdict from the slowest requests, when the trace shows requests.

The user arrives with a P99 spike. When ``timeline.requests`` holds request spans with a
breakdown (see :mod:`.latency`), the cause that the slowest 1 % of requests spent their
time in decides the verdict and the summary; the CPU shares over the window become
supporting (or contrary) evidence. Every evidence line added here says whether it supports
or argues against the verdict, with its sample size.
"""

from __future__ import annotations

from typing import Any

from mapdoctor.analysis.advice import GENERIC
from mapdoctor.analysis.findings import Cause, CauseKind, Diagnosis, Site, Verdict
from mapdoctor.analysis.latency import RUNNING
from mapdoctor.analysis.stats import CONFIRMED, wilson

#: p99 at least this many times p50: the slowest requests are outliers worth explaining.
SPIKE_RATIO = 3.0
#: The slow requests' top category must hold at least this share of their wall time ...
MIN_TOP_SHARE = 0.25
#: ... and exceed its share in the typical requests by this much (it is what sets them apart).
MIN_CONTRAST = 0.15
#: Slow requests running at least this long on average are preempted by the scheduler's time
#: slice (10 ms) as a matter of course: their runnable time is not starvation.
PREEMPTED_MS = 20.0
#: A running category decides only when at least this many CPU samples fell on the slow spans
#: (each sample is 10 ms of CPU: the split of their running time rests on these).
MIN_SLOW_SAMPLES = 8
#: What ran instead is named only when its share's 95 % lower bound (Wilson) reaches this.
MIN_RAN_INSTEAD = 0.3
#: Fewer slow requests than this make the finding "medium" confidence at best.
MIN_SLOW_FOR_HIGH = 5
#: A single slow request shows what happened to it, not a pattern: alone it confirms a cause the
#: rest of the data already found, and raises none of its own (a loaded machine's one long
#: stop-the-world pause otherwise turns a healthy service's verdict into "GC pressure").
MIN_SLOW_TO_RAISE = 2

#: Breakdown category -> the cause it is evidence of.
CAUSE_OF: dict[str, CauseKind] = {
    "map_growth": CauseKind.MAP_GROWTH, "slice_growth": CauseKind.SLICE_GROWTH, "sync_map": CauseKind.SYNC_MAP,
    "lock_wait": CauseKind.LOCK_CONTENTION, "gc": CauseKind.GC_PRESSURE, "gc_assist": CauseKind.GC_PRESSURE,
    "malloc": CauseKind.GC_PRESSURE, "stw": CauseKind.GC_PRESSURE,
}
#: How a category reads in a sentence ("spent 71 % of their time ...").
PHRASE = {
    "map_growth": "in map growth", "slice_growth": "in slice growth", "sync_map": "inside sync.Map",
    "map_access": "in map access", "gc": "in garbage collection", "gc_assist": "in GC mark assists",
    "malloc": "allocating", "lock_wait": "waiting on a lock", "scheduler": "in the scheduler",
    "syscall": "in syscalls", "user": "in their own code", "other": "elsewhere (runtime, sleep, unsampled)",
    "runnable": "runnable, waiting for a CPU", "chan_wait": "waiting on channels or other goroutines",
    "network": "waiting on the network", "stw": "stopped by stop-the-world pauses",
}
#: What ran instead, in a sentence ("while map growth at ... ran on the CPUs").
RAN = {**{k: v.removeprefix("in ") for k, v in PHRASE.items()}, "user": "other goroutines' code",
       "malloc": "allocation", "other": "other runtime work"}
NAMES = {CauseKind.MAP_GROWTH: "map growth", CauseKind.SLICE_GROWTH: "slice growth",
         CauseKind.SYNC_MAP: "sync.Map churn", CauseKind.LOCK_CONTENTION: "lock contention",
         CauseKind.GC_PRESSURE: "GC pressure", CauseKind.CPU_STARVATION: "CPU starvation",
         CauseKind.CONCURRENT_MAP_WRITES: "concurrent map writes"}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _ms(x: float) -> str:
    if x >= 100:
        return f"{x:.0f} ms"
    if x >= 1:
        return f"{x:.1f} ms"
    return f"{1000 * x:.0f} µs"


def _where(site: dict[str, Any] | None) -> str:
    if not site or not site.get("file"):
        return ""
    return f" at {site['file']}:{site['line']}"


def who(req: dict[str, Any]) -> str:
    """'the slowest 1 % of requests' or, when that is one request, 'the slowest request'."""
    n = req["slow"]["count"]
    return "the slowest request" if n == 1 else "the slowest 1 % of requests"


def headline(req: dict[str, Any]) -> str:
    """The percentiles in one phrase: '(p99 29.4 ms vs p50 1.8 ms, 1151 requests)'."""
    return f"(p99 {_ms(req['p99_ms'])} vs p50 {_ms(req['p50_ms'])}, {req['count']} requests)"


def _mix(breakdown: dict[str, float], n: int = 3) -> str:
    top = sorted(breakdown.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{_pct(v)} {k}" for k, v in top if v >= 0.005)


def percentiles_line(req: dict[str, Any]) -> str:
    """The request latencies alone, for when no slow requests were told apart."""
    return f"requests ({req['method']}, {req['count']}): p50 {_ms(req['p50_ms'])}, p99 {_ms(req['p99_ms'])}"


def requests_line(req: dict[str, Any]) -> str:
    """One line for the report's head: how requests were found and where their time went."""
    slow, typical = req["slow"], req["typical"]
    return (f"requests ({req['method']}, {req['count']}): p50 {_ms(req['p50_ms'])}, p99 {_ms(req['p99_ms'])}; "
            f"slowest {slow['count']} (>= {_ms(slow['threshold_ms'])}): {_mix(slow['breakdown'])}; "
            f"typical: {_mix(typical['breakdown'])}")


def _finding(req: dict[str, Any]) -> tuple[CauseKind | None, str, dict[str, Any] | None, str]:
    """(cause, category, site, phrase) of what sets the slowest requests apart; cause None: none."""
    slow, typical = req["slow"], req["typical"]
    top = slow["top"]
    cat, share = top["category"], top["share"]
    contrast = share - typical["breakdown"].get(cat, 0.0)
    if share < MIN_TOP_SHARE or contrast < MIN_CONTRAST:
        return None, cat, top.get("site"), ""
    if cat in RUNNING and slow["cpu_samples"] < MIN_SLOW_SAMPLES:
        return None, cat, top.get("site"), ""  # a running split from a handful of samples is noise
    running = {k: v for k, v in slow["breakdown"].items() if k in RUNNING}
    run_ms = sum(running.values()) * slow["wall_ms"]
    if cat == "runnable" and run_ms >= PREEMPTED_MS:
        # Requests that run this long are time-sliced with everything else runnable: their wait
        # follows from their own running, so what they ran decides.
        best = max(running, key=lambda k: running[k])
        if running[best] >= MIN_TOP_SHARE * 0.8 and best in CAUSE_OF and slow["cpu_samples"] >= MIN_SLOW_SAMPLES:
            sites = slow.get("sites") or {}
            return CAUSE_OF[best], best, sites.get(best), PHRASE.get(best, best)
    if cat == "runnable":
        ran = slow.get("ran_instead")
        if (ran is None or ran["cpu_samples"] < MIN_SLOW_SAMPLES
                or wilson(ran["share"] * ran["cpu_samples"], ran["cpu_samples"])[0] < MIN_RAN_INSTEAD):
            return None, cat, None, ""  # they waited, but what took the CPUs is not clear enough
        kind = CAUSE_OF.get(ran["category"], CauseKind.CPU_STARVATION)
        if ran["category"] in ("user", "other", "map_access", "scheduler", "syscall"):
            kind = CauseKind.CPU_STARVATION
        meanwhile = (f"{PHRASE[cat]}, while {RAN.get(ran['category'], ran['category'])}"
                     f"{_where(ran['site'])} ran on the CPUs ({_pct(ran['share'])} of "
                     f"{_samples(ran['cpu_samples'])} meanwhile)")
        return kind, cat, ran.get("site"), meanwhile
    if cat == "lock_wait" and top.get("within") == "sync.Map":
        return CauseKind.SYNC_MAP, cat, top.get("site"), "waiting on sync.Map's internal lock"
    if cat == "stw":
        reason = top.get("reason")
        return CAUSE_OF[cat], cat, None, PHRASE[cat] + (f" ({reason})" if reason else "")
    return CAUSE_OF.get(cat), cat, top.get("site"), PHRASE.get(cat, cat)


def _gc_driver(d: Diagnosis) -> Cause | None:
    """The cause whose allocations drive the GC work, when it owns more of it than is left over.

    The CPU verdict charges GC work to the causes whose allocations drive it (see
    ``verdict._gc_pressure``); slow requests that lost their time to that GC (assists, waiting
    for a CPU while it ran, its stop-the-world pauses) are slowed by the same driver. Without
    this the primary cause would flip between the driver and "GC pressure" from one capture to
    the next, depending on whether the request spans or the CPU shares decided.
    """
    drivers = [c for c in d.causes if c.gc_charged > 0 and c.status == CONFIRMED]
    if not drivers:
        return None
    top = max(drivers, key=lambda c: c.gc_charged)
    rest = next((c for c in d.causes if c.kind is CauseKind.GC_PRESSURE and c.status == CONFIRMED), None)
    if rest is not None and rest.score > top.gc_charged:
        return None  # most of the GC work is nobody's in particular: GC pressure it is
    return top


def _tag(stance: str, size: str, text: str) -> str:
    return f"{stance} ({size}): {text}"


def apply(d: Diagnosis, cpu_samples: int) -> Diagnosis:
    """Let the slowest requests decide ``d``'s verdict and summary, when there are any."""
    req = (d.timeline or {}).get("requests")
    if not req or not req.get("slow") or d.verdict is Verdict.INCONCLUSIVE:
        return d
    if any(c.kind is CauseKind.CONCURRENT_MAP_WRITES for c in d.causes):
        return d  # a crash answers the question before any latency does
    slow, typical = req["slow"], req["typical"]
    ratio = req["p99_ms"] / req["p50_ms"] if req["p50_ms"] else 0.0
    sizes = (f"{slow['count']} slowest of {req['count']} requests, {_samples(slow['cpu_samples'])} on them, "
             f"method {req['method']}")
    if ratio < SPIKE_RATIO:
        line = (f"{who(req)} {headline(req)} are within {ratio:.1f}x of the median: no latency outliers to explain")
        d.notes.append(line)
        if not d.causes:
            d.summary = f"No: {line}; nothing stands out."
        return d
    kind, cat, site, phrase = _finding(req)
    share = slow["breakdown"].get(cat, 0.0)
    their, them = ("its", "it") if slow["count"] == 1 else ("their", "them")
    sentence = f"{who(req)} {headline(req)} spent {_pct(share)} of {their} time {phrase or PHRASE.get(cat, cat)}"
    if kind is None:
        d.notes.append(_tag("finding", sizes, sentence + _where(site) + f" — no single cause sets {them} apart"))
        return d
    driver = _gc_driver(d) if kind is CauseKind.GC_PRESSURE else None
    driven = ""
    if driver is not None:
        drv = driver.sites[0] if driver.sites else None
        drv_where = f" at {drv.file}:{drv.line}" if drv is not None and drv.file else ""
        driven = f" (GC work driven by {NAMES.get(driver.kind, driver.kind.value)}{drv_where})"
        kind = driver.kind
    cause = next((c for c in d.causes if c.kind is kind), None)
    confirmed = cause is not None and cause.status == CONFIRMED
    if cat == "stw" and driver is None and not confirmed:
        # A pause is long either because GC work is heavy (then the CPU data confirms GC
        # pressure) or because stopping the world took long: the OS did not run the threads
        # (a loaded machine) or a goroutine was slow to reach a preemption point. Fewer or
        # cheaper GCs would not help the latter, so it is told as what it is.
        n = slow["top"].get("pauses", 0)
        d.notes.append(_tag("finding", sizes, sentence + f" ({n} pause{'s' if n != 1 else ''}) — GC work is "
                            "light in the window: the pauses were long because stopping the world took long "
                            "(a loaded machine, or a goroutine slow to reach a preemption point), not from "
                            "GC pressure"))
        return d
    if slow["count"] < MIN_SLOW_TO_RAISE and not confirmed:
        d.notes.append(_tag("finding", sizes, sentence + _where(site) + driven
                            + f" — one request is not a pattern: {NAMES.get(kind, kind.value)} is not raised on it"))
        return d
    if cause is None:
        sites = []
        if site and site.get("file"):
            sites = [Site(site["function"], site["file"], site["line"], share, GENERIC.get(kind, ""))]
        cause = Cause(kind, share, [], sites, measure="slow_request_time")
        d.causes.append(cause)
    else:
        cause.evidence = [e if e.startswith(("supports", "argues against")) else f"supports: {e}"
                          for e in cause.evidence]
    typical_share = typical["breakdown"].get(cat, 0.0)
    lines = [_tag("supports", sizes, sentence + (_where(site) if cat != "runnable" else "") + driven),
             _tag("supports" if typical_share < share / 2 else "argues against",
                  f"{typical['count']} typical requests",
                  f"the middle 50 % (median {_ms(typical['wall_ms'])}) spent {_pct(typical_share)} "
                  f"{PHRASE.get(cat, cat)}")]
    share_of_cpu = d.shares.get(cat)
    if share_of_cpu is not None and cat in RUNNING:
        lines.append(_tag("supports", f"{cpu_samples} CPU samples",
                          f"{_pct(share_of_cpu)} of all sampled CPU in the window is "
                          f"{PHRASE.get(cat, cat).removeprefix('in ')}"))
    others = [c for c in d.causes if c is not cause and c.score > cause.score]
    for other in others[:1]:
        lines.append(_tag("argues against", f"{cpu_samples} CPU samples",
                          f"over the whole window {NAMES.get(other.kind, other.kind.value)} costs more "
                          f"({_pct(other.score)}) than {NAMES.get(kind, kind.value)}"))
    cause.evidence[:0] = lines
    if not cause.sites and site and site.get("file"):
        cause.sites = [Site(site["function"], site["file"], site["line"], share, GENERIC.get(kind, ""))]
    d.causes.remove(cause)
    d.causes.insert(0, cause)
    # The slow requests decide: the cause they name is the confirmed primary, whatever its CPU
    # share alone said (a 7 % growth share can be "probable" and be 39 % of the slow requests).
    cause.status = CONFIRMED
    growth = kind is CauseKind.MAP_GROWTH
    d.verdict = Verdict.MAP_GROWTH if growth else Verdict.NOT_MAP_GROWTH
    where = _where(site) if cat != "runnable" else ""
    tail = "" if growth else f": {NAMES.get(kind, kind.value)}, not map growth"
    cpu_note = ""
    if growth and d.shares.get("map_growth"):
        cpu_note = f"; map growth is {_pct(d.shares['map_growth'])} of the window's CPU"
    d.summary = f"{'Yes' if growth else 'No'}: {sentence}{where}{driven}{tail}{cpu_note}."
    if slow["count"] < MIN_SLOW_FOR_HIGH and d.confidence == "high":
        d.confidence = "medium"
        d.notes.append(f"only {slow['count']} slow request(s) in the trace: a longer trace would make the "
                       "request breakdown firmer")
    return d


def _samples(n: int) -> str:
    return f"{n} CPU sample" if n == 1 else f"{n} CPU samples"
