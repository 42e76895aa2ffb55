"""Evidence from goroutine dumps and crash output."""

from __future__ import annotations

from collections import Counter

from mapdoctor.analysis.classify import StackClassifier, user_site
from mapdoctor.analysis.costs import SiteKey, site_key
from mapdoctor.analysis.evidence import CrashEvidence, DumpEvidence
from mapdoctor.analysis.frametable import Cost
from mapdoctor.formats.detect import InputKind, LoadedInput

_CONCURRENT_MAP = "concurrent map"
#: Wait reasons (goroutine header) that mean "blocked on a lock".
_LOCK_STATES = ("sync.Mutex.Lock", "sync.RWMutex.Lock", "sync.RWMutex.RLock", "semacquire")


def dump_evidence(inputs: list[LoadedInput], classifier: StackClassifier) -> tuple[list[DumpEvidence],
                                                                                   list[CrashEvidence]]:
    from mapdoctor.formats.goroutines import concurrent_map_writers

    dumps: list[DumpEvidence] = []
    crashes: list[CrashEvidence] = []
    for item in inputs:
        dump = item.dump
        if dump is None:
            continue
        if item.kind is InputKind.CRASH and dump.fatal_error and dump.fatal_error.startswith(_CONCURRENT_MAP):
            crashes.append(CrashEvidence(item.path, dump.fatal_error, concurrent_map_writers(dump), dump.truncated))
            continue
        waiters: Counter[SiteKey] = Counter()
        growing: Counter[SiteKey] = Counter()
        for g in dump.goroutines:
            if g.state.startswith(_LOCK_STATES):
                waiters[site_key(user_site(g.stack))] += 1
            elif classifier.classify(g.stack).cost is Cost.MAP_GROWTH:
                growing[site_key(user_site(g.stack))] += 1
        dumps.append(DumpEvidence(item.path, len(dump.goroutines), dict(waiters), dict(growing)))
    return dumps, crashes
