"""What to change at a site, per cause kind."""

from __future__ import annotations

from mapdoctor.analysis.findings import CauseKind

GENERIC = {
    CauseKind.MAP_GROWTH: "pre-size the map where it is made: make(map[K]V, n) with n its expected final size "
                          "(growth rehashes every entry at each doubling)",
    CauseKind.SLICE_GROWTH: "give the slice its capacity before the loop: make([]T, 0, n)",
    CauseKind.SYNC_MAP: "sync.Map suits keys written once and read often; for ever-new keys use a map "
                        "guarded by a sync.Mutex (sharded if hot), or bound the key set",
    CauseKind.LOCK_CONTENTION: "shorten the critical section (no allocation or I/O under the lock), "
                               "shard the map by key, or use sync.RWMutex if reads dominate",
    CauseKind.GC_PRESSURE: "allocate less at the top sites (reuse buffers, sync.Pool, fewer pointers); "
                           "or give the GC room: GOGC / GOMEMLIMIT",
    CauseKind.CONCURRENT_MAP_WRITES: "guard the map with a sync.Mutex (or sync.RWMutex), or confine it to "
                                     "one goroutine; `go test -race` finds the other writer",
    CauseKind.CPU_STARVATION: "give the CPU-bound work fewer goroutines than GOMAXPROCS (a worker limit), "
                              "run it elsewhere, or yield between chunks; add cores if the load is real",
}


def map_hint_advice(estimate_low: int, estimate_high: int, hint: int) -> str:
    return (f"pre-size the map: make(map[K]V, {hint}) at its make(...) site "
            f"(final size estimated {estimate_low}-{estimate_high} entries from its growth allocations)")
