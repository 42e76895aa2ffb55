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
    CauseKind.MAP_CREATION: "create fewer small maps: a struct instead of a map literal with fixed keys, one map "
                            "reused with clear(m) instead of one per item, or decoding into structs instead of "
                            "map[string]any (a size hint does not help: small maps allocate on first insert)",
    CauseKind.CPU_STARVATION: "give the CPU-bound work fewer goroutines than GOMAXPROCS (a worker limit), "
                              "run it elsewhere, or yield between chunks; add cores if the load is real",
}

#: sync.Map advice per pattern of its operations (verdict._sync_map tells them apart).
SYNC_MAP_ADVICE = {
    "new_keys": "sync.Map suits keys written once and read often; this one keeps getting new keys (each copies "
                "the read map on Go <= 1.23, allocates trie nodes on Go >= 1.24): use a map guarded by a "
                "sync.Mutex (sharded if hot), or bound the key set",
    "misses": "reads miss the read-only part of the sync.Map and take its lock (keys looked up before they are "
              "stored, or right after): look them up after storing, keep misses out with a negative cache, or "
              "use a map guarded by a sync.RWMutex",
    "updates": "the sync.Map is updated in place (Store/Swap of existing keys) more than it is read: store a "
               "pointer once (e.g. *atomic.Int64) and update through it, or use a map guarded by a sync.Mutex",
}


def capacity_text(low: int, high: int, limit: str) -> str:
    """The final size a capacity estimate supports, as the evidence allows it to be said."""
    if limit and high > 8 * max(low, 1):
        return f"more than {low:,} entries; the profile cannot bound it closer ({limit})"
    if limit:
        return f"{low:,}-{high:,} entries; the profile cannot narrow it ({limit})"
    return f"{low:,}-{high:,} entries"


def map_hint_advice(estimate_low: int, estimate_high: int, hint: int, limit: str = "") -> str:
    size = capacity_text(estimate_low, estimate_high, limit)
    if limit:
        return (f"pre-size the map with the count the code knows (e.g. the length of what fills it): "
                f"make(map[K]V, n) at its make(...) site; the final size is {size}, about {hint:,} by the estimate")
    return (f"pre-size the map: make(map[K]V, {hint}) at its make(...) site "
            f"(final size {size} from its growth allocations; any hint "
            f"in that range avoids every growth)")
