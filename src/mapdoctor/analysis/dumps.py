"""Evidence from goroutine dumps, goroutine profiles and crash output.

A dump is one instant: what each goroutine was doing. Goroutines waiting on a lock are told by
their stacks (a lock slow path: parked on the mutex's semaphore, spinning, or handing the lock
over) rather than by the state in the header alone, because taking the dump wakes some of them
(a contended mutex shows as 31 *runnable* goroutines in ``lockSlow``/``unlockSlow``). They are
compared with the goroutines doing work (running, runnable, in a syscall); idle ones (network
wait, select, sleep, channel receive) are neither.
"""

from __future__ import annotations

from collections import Counter

from mapdoctor.analysis.classify import SiteFinder, StackClassifier, user_site
from mapdoctor.analysis.costs import SiteKey, site_key
from mapdoctor.analysis.evidence import CrashEvidence, DumpEvidence
from mapdoctor.analysis.frametable import Cost
from mapdoctor.formats.detect import InputKind, LoadedInput
from mapdoctor.model.stack import Stack

_CONCURRENT_MAP = "concurrent map"
#: Wait reasons (goroutine header) that mean "blocked on a lock".
_LOCK_STATES = ("sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock")
#: States of goroutines that are doing work (or about to).
_WORKING_STATES = ("running", "runnable", "syscall")
#: Leaf functions of a parked goroutine in a goroutine profile.
_PARKED_LEAVES = ("runtime.gopark", "runtime.goparkunlock")
#: A goroutine in these holds the lock and is handing it to a waiter (starvation mode): evidence
#: of contention, but its line is the Unlock, not where goroutines wait.
_HANDOFF = ("unlockSlow", "Semrelease", "semrelease")


def _handing_off(stack: Stack) -> bool:
    return any(any(h in f.function for h in _HANDOFF) for f in stack)


def dump_evidence(inputs: list[LoadedInput], classifier: StackClassifier) -> tuple[list[DumpEvidence],
                                                                                   list[CrashEvidence]]:
    from mapdoctor.formats.goroutines import concurrent_map_writers

    dumps: list[DumpEvidence] = []
    crashes: list[CrashEvidence] = []
    for item in inputs:
        dump = item.dump
        if dump is None:
            if item.kind is InputKind.GOROUTINE_PROFILE and item.profile is not None:
                dumps.append(_from_profile(item, classifier))
            continue
        if item.kind is InputKind.CRASH and dump.fatal_error and dump.fatal_error.startswith(_CONCURRENT_MAP):
            crashes.append(CrashEvidence(item.path, dump.fatal_error, concurrent_map_writers(dump), dump.truncated))
            continue
        waiters: Counter[SiteKey] = Counter()
        handoffs: Counter[SiteKey] = Counter()
        growing: Counter[SiteKey] = Counter()
        working = 0
        for g in dump.goroutines:
            cost = classifier.classify(g.stack).cost
            # The header's wait reason counts only when the stack agrees it is a lock of the
            # program's own (a sync.Map's internal mutex is sync.Map cost, not lock contention).
            if cost is Cost.LOCK_WAIT or (g.state.startswith(_LOCK_STATES) and cost in (Cost.USER, Cost.LOCK)):
                (handoffs if _handing_off(g.stack) else waiters)[site_key(user_site(g.stack))] += 1
                continue
            if cost is Cost.MAP_GROWTH:
                growing[site_key(user_site(g.stack))] += 1
            if g.state.startswith(_WORKING_STATES):
                working += 1
        dumps.append(DumpEvidence(item.path, len(dump.goroutines), dict(waiters), dict(growing), working,
                                  dict(handoffs)))
    return dumps, crashes


def _from_profile(item: LoadedInput, classifier: StackClassifier) -> DumpEvidence:
    """The same from a goroutine profile (``/debug/pprof/goroutine``): stacks with counts, no states."""
    assert item.profile is not None
    waiters: Counter[SiteKey] = Counter()
    handoffs: Counter[SiteKey] = Counter()
    growing: Counter[SiteKey] = Counter()
    finder = SiteFinder()
    total = working = 0
    for sample in item.profile.samples:
        n = sample.values[0] if sample.values else 0
        if n <= 0:
            continue
        total += n
        stack = sample.stack()
        cost = classifier.classify(stack).cost
        if cost is Cost.LOCK_WAIT:
            (handoffs if _handing_off(stack) else waiters)[site_key(finder.site(sample.locations))] += n
            continue
        if cost is Cost.MAP_GROWTH:
            growing[site_key(finder.site(sample.locations))] += n
        if not stack or stack[0].function not in _PARKED_LEAVES:
            working += n
    return DumpEvidence(item.path, total, dict(waiters), dict(growing), working, dict(handoffs))
