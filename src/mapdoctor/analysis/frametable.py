"""Runtime frame -> cost category, as data: one table per map implementation plus shared rows.

A stack is classified by walking it from the root (caller side) to the leaf. Each frame that
matches a row may change the current category, but only when the current category is one of
the row's ``within`` set (``None`` = from anywhere). That one mechanism expresses the traps:

* ``runtime.makeBucketArray`` counts as growth only under an insert (``MAP_WRITE``); under
  ``runtime.mapclear`` it is zeroing and under ``runtime.makemap`` it is pre-sizing;
* ``runtime.growslice`` counts as slice growth only from user code: under
  ``(*hmap).newoverflow`` it is the map recording an overflow bucket (an ordinary insert
  cost, which a pre-sized map pays too);
* classic ``growWork``/``evacuate`` also run under ``mapdelete``: still growth work;
* map frames under ``sync.Map`` stay ``sync.Map`` (its dirty-map copies are its own cost);
* a GC mark assist overrides whatever allocated: the time is GC work, and the category it
  interrupted is remembered as what the assist is charged to;
* Swiss ``(*Map).growToSmall`` is the first group of every small map (no size hint avoids it):
  map creation, not growth; classic maps allocate that first bucket in ``mapassign_fast*``;
* ``sync.Map`` work is told apart by operation: reads (what it is built for), reads that miss
  and take the lock, stores of new keys (dirty-map copies, hash-trie nodes), other writes;
* lock fast paths (``Lock``/``Unlock`` themselves, also the holder's ``Unlock`` that ends every
  mutex-profile stack) and slow paths (spinning, parking, hand-off) are separate categories.

Every function name here was checked against CPU profiles of the lab programs built with
Go 1.23 (classic maps) and Go 1.27 (Swiss tables); see docs/CLASSIFICATION.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Cost(Enum):
    USER = "user"
    MAP_WRITE = "map_write"
    MAP_READ = "map_read"
    MAP_DELETE = "map_delete"
    MAP_CLEAR = "map_clear"
    MAP_ITER = "map_iter"
    MAP_MAKE = "map_make"
    #: Creating a small map: makemap_small, Swiss growToSmall, classic first bucket.
    MAP_MAKE_SMALL = "map_make_small"
    MAP_GROWTH = "map_growth"
    SLICE_GROWTH = "slice_growth"
    #: sync.Map writes other than new keys (Store/Swap of existing keys, Delete, locking).
    SYNC_MAP = "sync_map"
    SYNC_MAP_READ = "sync_map_read"
    #: A read that missed the read-only part and took the lock (Go <= 1.23).
    SYNC_MAP_MISS = "sync_map_miss"
    #: Stores of new keys: dirty-map copies and inserts, hash-trie entries and node expansion.
    SYNC_MAP_NEWKEY = "sync_map_newkey"
    MALLOC = "malloc"
    GC = "gc"
    GC_ASSIST = "gc_assist"
    #: Lock and Unlock themselves (uncontended cost, or a contended cache line).
    LOCK = "lock"
    #: Lock slow paths: spinning, parking on the semaphore, hand-off.
    LOCK_WAIT = "lock_wait"
    SCHEDULER = "scheduler"
    SYSCALL = "syscall"
    RUNTIME_OTHER = "runtime_other"


#: The ``shares`` keys of the JSON contract, in order; each Cost folds into one of them.
SHARE_KEYS = (
    "map_growth", "map_access", "slice_growth", "sync_map", "gc", "gc_assist",
    "malloc", "lock_wait", "scheduler", "syscall", "user", "other",
)

SHARE_OF: dict[Cost, str] = {
    Cost.USER: "user",
    Cost.MAP_WRITE: "map_access",
    Cost.MAP_READ: "map_access",
    Cost.MAP_DELETE: "map_access",
    Cost.MAP_CLEAR: "map_access",
    Cost.MAP_ITER: "map_access",
    Cost.MAP_MAKE: "map_access",
    Cost.MAP_MAKE_SMALL: "map_access",
    Cost.MAP_GROWTH: "map_growth",
    Cost.SLICE_GROWTH: "slice_growth",
    Cost.SYNC_MAP: "sync_map",
    Cost.SYNC_MAP_READ: "sync_map",
    Cost.SYNC_MAP_MISS: "sync_map",
    Cost.SYNC_MAP_NEWKEY: "sync_map",
    Cost.MALLOC: "malloc",
    Cost.GC: "gc",
    Cost.GC_ASSIST: "gc_assist",
    Cost.LOCK: "lock_wait",
    Cost.LOCK_WAIT: "lock_wait",
    Cost.SCHEDULER: "scheduler",
    Cost.SYSCALL: "syscall",
    Cost.RUNTIME_OTHER: "other",
}

_FROM_USER = frozenset({Cost.USER})
_MAP_MUTATION = frozenset({Cost.MAP_WRITE, Cost.MAP_DELETE})
_MAP_INSERT = frozenset({Cost.MAP_WRITE})
_SYNC_WRITE = frozenset({Cost.SYNC_MAP})
_SYNC_READ = frozenset({Cost.SYNC_MAP_READ})
_LOCKING = frozenset({Cost.USER, Cost.LOCK})

#: The classic fast-path inserts. They allocate with newobject only for the first bucket of a
#: map made without one (``h.buckets == nil``) and, through newoverflow, for overflow buckets;
#: the generic ``runtime.mapassign`` also allocates indirect keys/values (> 128 bytes), so it
#: is not among them.
_CLASSIC_FAST_ASSIGN = ("runtime.mapassign_fast32", "runtime.mapassign_fast32ptr", "runtime.mapassign_fast64",
                        "runtime.mapassign_fast64ptr", "runtime.mapassign_faststr")


@dataclass(frozen=True, slots=True)
class Rule:
    """``pattern`` is a full function name, a prefix when it ends with ``*``, or has ``[*]``
    standing for any type arguments of a generic (``(*HashTrieMap[*]).expand``). The ``*``
    of ``(*T)`` is part of the name.

    ``caller``, when given, restricts the row to frames called directly by one of these
    functions (the next frame towards the root)."""

    pattern: str
    cost: Cost
    within: frozenset[Cost] | None = _FROM_USER
    note: str = ""
    caller: tuple[str, ...] = ()


# Entry points the compiler emits calls to; the same symbols exist in both implementations
# (Swiss builds linkname internal/runtime/maps code to these runtime names).
_MAP_ENTRY = (
    Rule("runtime.mapassign*", Cost.MAP_WRITE),
    Rule("runtime.mapaccess*", Cost.MAP_READ),
    Rule("runtime.mapdelete*", Cost.MAP_DELETE),
    Rule("runtime.mapclear", Cost.MAP_CLEAR),
    Rule("runtime.mapiterinit", Cost.MAP_ITER),
    Rule("runtime.mapiternext", Cost.MAP_ITER),
    Rule("runtime.mapIterStart", Cost.MAP_ITER),
    Rule("runtime.mapIterNext", Cost.MAP_ITER),
    Rule("runtime.makemap_small", Cost.MAP_MAKE_SMALL, note="make(map) with no or a small hint, small literals"),
    Rule("runtime.makemap*", Cost.MAP_MAKE),
    Rule("runtime.mapclone*", Cost.MAP_MAKE),
    Rule("maps.clone", Cost.MAP_MAKE),
)

CLASSIC_MAP_ROWS = (
    Rule("runtime.hashGrow", Cost.MAP_GROWTH, _MAP_INSERT, "growth starts: new bucket array"),
    Rule("runtime.growWork*", Cost.MAP_GROWTH, _MAP_MUTATION, "incremental evacuation (also under delete)"),
    Rule("runtime.evacuate*", Cost.MAP_GROWTH, _MAP_MUTATION),
    Rule("runtime.advanceEvacuationMark", Cost.MAP_GROWTH, _MAP_MUTATION),
    Rule("runtime.makeBucketArray", Cost.MAP_GROWTH, _MAP_INSERT, "not growth under mapclear/makemap"),
    # Overflow buckets are part of an ordinary insert (a pre-sized map takes them too, from
    # its preallocated pool); the row keeps the insert's category so that the growslice it
    # may call is not mistaken for slice growth.
    Rule("runtime.(*hmap).newoverflow", Cost.MAP_WRITE, _MAP_INSERT, "overflow bucket, may call growslice"),
    Rule("runtime.newobject", Cost.MAP_MAKE_SMALL, _MAP_INSERT, "first bucket of a map made without one",
         caller=_CLASSIC_FAST_ASSIGN),
)

SWISS_MAP_ROWS = (
    Rule("internal/runtime/maps.(*table).rehash", Cost.MAP_GROWTH, _MAP_INSERT, "table full: grow or split"),
    Rule("internal/runtime/maps.(*table).grow", Cost.MAP_GROWTH, _MAP_INSERT),
    Rule("internal/runtime/maps.(*table).split", Cost.MAP_GROWTH, _MAP_INSERT),
    Rule("internal/runtime/maps.(*Map).growToTable", Cost.MAP_GROWTH, _MAP_INSERT, "9th key: small map -> table"),
    # NewMap with a hint <= 8 allocates nothing; the first insert allocates the one group of
    # every small map here. No size hint avoids it: it is map creation, not growth.
    Rule("internal/runtime/maps.(*Map).growToSmall", Cost.MAP_MAKE_SMALL, _MAP_INSERT, "first group of a small map"),
    Rule("internal/runtime/maps.(*Map).installTableSplit", Cost.MAP_GROWTH, _MAP_INSERT, "directory doubling"),
)

_SYNC_MAP = (
    # Reads: what sync.Map is built for. Go >= 1.24 reads never lock (hits and misses look alike).
    Rule("sync.(*Map).Load", Cost.SYNC_MAP_READ, note="read hit (or a miss)"),
    Rule("sync.(*Map).Range", Cost.SYNC_MAP_READ),
    Rule("sync.(*Map).missLocked", Cost.SYNC_MAP_MISS, _SYNC_READ, "<=1.23 a miss counted towards promotion"),
    Rule("sync.(*Mutex).*", Cost.SYNC_MAP_MISS, _SYNC_READ, "<=1.23 a read that missed the read map locks"),
    Rule("internal/sync.(*HashTrieMap[*]).Load", Cost.SYNC_MAP_READ, note=">=1.24 hash-trie used directly"),
    Rule("internal/sync.(*HashTrieMap[*]).All", Cost.SYNC_MAP_READ),
    Rule("internal/sync.(*HashTrieMap[*]).Range", Cost.SYNC_MAP_READ),
    # Writes: Store, LoadOrStore, Swap, Delete, CompareAndSwap, ...
    Rule("sync.(*Map).*", Cost.SYNC_MAP),
    Rule("internal/sync.(*HashTrieMap[*", Cost.SYNC_MAP, note=">=1.24 hash-trie"),
    Rule("sync.(*HashTrieMap[*", Cost.SYNC_MAP),
    # ... of new keys. <= 1.23: the first new key after a promotion copies the read map into a
    # new dirty map (dirtyLocked); every new key is inserted there. >= 1.24: a new entry node,
    # and indirect nodes when its hash prefix collides (expand).
    Rule("sync.(*Map).dirtyLocked", Cost.SYNC_MAP_NEWKEY, _SYNC_WRITE, "<=1.23 read map copied"),
    Rule("sync.newEntry", Cost.SYNC_MAP_NEWKEY, _SYNC_WRITE),
    Rule("runtime.mapassign*", Cost.SYNC_MAP_NEWKEY, _SYNC_WRITE, "<=1.23 insert into the dirty map"),
    Rule("internal/sync.newEntryNode[*", Cost.SYNC_MAP_NEWKEY, _SYNC_WRITE),
    Rule("internal/sync.newIndirectNode[*", Cost.SYNC_MAP_NEWKEY, _SYNC_WRITE),
    Rule("internal/sync.(*HashTrieMap[*]).expand", Cost.SYNC_MAP_NEWKEY, _SYNC_WRITE),
)

_LOCKS = (
    # Lock/Unlock themselves. Mutex-profile stacks end in the holder's Unlock (Go 1.23 and 1.27).
    Rule("sync.(*Mutex).Lock", Cost.LOCK, _LOCKING),
    Rule("sync.(*Mutex).TryLock", Cost.LOCK, _LOCKING),
    Rule("sync.(*Mutex).Unlock", Cost.LOCK, _LOCKING, "the holder's side (mutex profiles)"),
    Rule("sync.(*RWMutex).*", Cost.LOCK, _LOCKING),
    Rule("internal/sync.(*Mutex).Lock", Cost.LOCK, _LOCKING),
    Rule("internal/sync.(*Mutex).TryLock", Cost.LOCK, _LOCKING),
    Rule("internal/sync.(*Mutex).Unlock", Cost.LOCK, _LOCKING),
    # Slow paths: spinning, parking, waking the next waiter.
    Rule("sync.(*Mutex).lockSlow", Cost.LOCK_WAIT, _LOCKING),
    Rule("sync.(*Mutex).unlockSlow", Cost.LOCK_WAIT, _LOCKING),
    Rule("sync.(*RWMutex).rUnlockSlow", Cost.LOCK_WAIT, _LOCKING),
    Rule("internal/sync.(*Mutex).lockSlow", Cost.LOCK_WAIT, _LOCKING),
    Rule("internal/sync.(*Mutex).unlockSlow", Cost.LOCK_WAIT, _LOCKING),
    Rule("internal/sync.runtime_Semacquire*", Cost.LOCK_WAIT, _LOCKING),
    Rule("sync.runtime_Semacquire*", Cost.LOCK_WAIT, _LOCKING),
    Rule("sync.runtime_Semrelease", Cost.LOCK_WAIT, _LOCKING),
    Rule("internal/sync.runtime_Semrelease", Cost.LOCK_WAIT, _LOCKING),
    Rule("runtime.semacquire*", Cost.LOCK_WAIT, _LOCKING),
    Rule("runtime.semrelease*", Cost.LOCK_WAIT, _LOCKING),
    Rule("runtime.lock2", Cost.LOCK_WAIT),
    # They park on the same semaphores, but wait for other goroutines, not for a lock.
    Rule("sync.(*WaitGroup).Wait", Cost.SCHEDULER),
    Rule("sync.(*Cond).Wait", Cost.SCHEDULER),
)

_ALLOC = (
    Rule("runtime.growslice*", Cost.SLICE_GROWTH, note="only from user code; see newoverflow"),
    Rule("runtime.mallocgc*", Cost.MALLOC),
    Rule("runtime.newobject", Cost.MALLOC),
    Rule("runtime.newarray", Cost.MALLOC),
    Rule("runtime.makeslice*", Cost.MALLOC),
    Rule("runtime.rawstring*", Cost.MALLOC),
    Rule("runtime.rawbyteslice", Cost.MALLOC),
    Rule("runtime.concatstring*", Cost.MALLOC),
    Rule("runtime.slicebytetostring", Cost.MALLOC),
    Rule("runtime.convT*", Cost.MALLOC),
)

_GC = (
    # Assists interrupt whatever allocates: the time is GC work wherever it happens.
    Rule("runtime.gcAssistAlloc*", Cost.GC_ASSIST, within=None),
    Rule("runtime.gcBgMarkWorker*", Cost.GC, within=None),
    Rule("runtime.bgsweep", Cost.GC, within=None),
    Rule("runtime.bgscavenge", Cost.GC, within=None),
    Rule("runtime.gcStart", Cost.GC),
    Rule("runtime.GC", Cost.GC),
    Rule("runtime.gcMarkDone", Cost.GC),
    Rule("runtime.gcMarkTermination", Cost.GC),
    Rule("runtime.gcDrain*", Cost.GC, within=frozenset({Cost.USER, Cost.RUNTIME_OTHER, Cost.SCHEDULER})),
    Rule("runtime.markroot*", Cost.GC, within=frozenset({Cost.USER, Cost.RUNTIME_OTHER, Cost.SCHEDULER})),
    Rule("runtime.sweepone", Cost.GC, within=frozenset({Cost.USER, Cost.RUNTIME_OTHER, Cost.SCHEDULER})),
)

_SCHED = (
    Rule("runtime.mcall", Cost.SCHEDULER),
    Rule("runtime.schedule", Cost.SCHEDULER),
    Rule("runtime.findRunnable", Cost.SCHEDULER),
    Rule("runtime.park_m", Cost.SCHEDULER),
    Rule("runtime.gosched*", Cost.SCHEDULER),
    Rule("runtime.Gosched", Cost.SCHEDULER),
    Rule("runtime.goschedImpl", Cost.SCHEDULER),
    Rule("runtime.gopreempt_m", Cost.SCHEDULER),
    Rule("runtime.wakep", Cost.SCHEDULER),
    Rule("runtime.ready", Cost.SCHEDULER),
    Rule("runtime.goready*", Cost.SCHEDULER),
    Rule("runtime.newproc*", Cost.SCHEDULER),
    Rule("runtime.sysmon", Cost.SCHEDULER),
    Rule("runtime.mstart*", Cost.SCHEDULER),
    Rule("runtime.notewakeup", Cost.SCHEDULER),
    Rule("runtime.notesleep", Cost.SCHEDULER),
    Rule("runtime.usleep", Cost.SCHEDULER),
    Rule("runtime.osyield", Cost.SCHEDULER),
    Rule("runtime.netpoll*", Cost.SCHEDULER),
    Rule("runtime.selectgo", Cost.SCHEDULER),
    Rule("runtime.chansend*", Cost.SCHEDULER),
    Rule("runtime.chanrecv*", Cost.SCHEDULER),
)

_SYSCALL = (
    Rule("syscall.Syscall*", Cost.SYSCALL),
    Rule("syscall.RawSyscall*", Cost.SYSCALL),
    Rule("syscall.syscall*", Cost.SYSCALL),
    Rule("internal/runtime/syscall.Syscall6", Cost.SYSCALL),
    Rule("runtime/internal/syscall.Syscall6", Cost.SYSCALL),
    Rule("internal/poll.*", Cost.SYSCALL),
    Rule("runtime.entersyscall*", Cost.SYSCALL),
    Rule("runtime.exitsyscall*", Cost.SYSCALL),
)

_OTHER = (
    Rule("runtime.morestack", Cost.RUNTIME_OTHER),
    Rule("runtime.newstack", Cost.RUNTIME_OTHER),
    Rule("runtime.copystack", Cost.RUNTIME_OTHER),
    Rule("runtime.sigprof", Cost.RUNTIME_OTHER),
)

COMMON_ROWS = (*_MAP_ENTRY, *_SYNC_MAP, *_LOCKS, *_ALLOC, *_GC, *_SCHED, *_SYSCALL, *_OTHER)


@dataclass(frozen=True, slots=True)
class FrameTable:
    """The rows that apply to one map implementation."""

    maps: str  # "classic" | "swiss" | "any"
    rows: tuple[Rule, ...]


CLASSIC = FrameTable("classic", (*CLASSIC_MAP_ROWS, *COMMON_ROWS))
SWISS = FrameTable("swiss", (*SWISS_MAP_ROWS, *COMMON_ROWS))
#: For inputs whose map implementation is unknown: both sets of growth rows (names differ).
ANY = FrameTable("any", (*CLASSIC_MAP_ROWS, *SWISS_MAP_ROWS, *COMMON_ROWS))


#: Evidence of the Go version / map implementation: a function name (prefix with ``*``)
#: and what seeing it implies. ``since``/``until`` are Go minor versions, inclusive.
@dataclass(frozen=True, slots=True)
class VersionHint:
    pattern: str
    maps: str | None
    since: int | None = None
    until: int | None = None


VERSION_HINTS = (
    VersionHint("internal/runtime/maps.*", "swiss", since=24),
    VersionHint("runtime.mapIterStart", "swiss", since=24),
    VersionHint("runtime.mapIterNext", "swiss", since=24),
    VersionHint("internal/sync.(*HashTrieMap[*", None, since=24),
    VersionHint("internal/sync.runtime_Semacquire*", None, since=24),
    VersionHint("internal/sync.(*Mutex).*", None, since=24),
    VersionHint("runtime.growsliceNoAlias", None, since=26),
    VersionHint("runtime.scanObject", None, since=26),
    VersionHint("runtime.scanSpan", None, since=26),
    VersionHint("internal/runtime/maps.memHashAES", "swiss", since=27),
    VersionHint("internal/runtime/maps.memHash64AES", "swiss", since=27),
    # Classic maps: the default up to 1.23, GOEXPERIMENT=noswissmap in 1.24 and 1.25.
    VersionHint("runtime.hashGrow", "classic", until=25),
    VersionHint("runtime.growWork*", "classic", until=25),
    VersionHint("runtime.evacuate*", "classic", until=25),
    VersionHint("runtime.makeBucketArray", "classic", until=25),
    VersionHint("runtime.(*hmap).*", "classic", until=25),
    VersionHint("runtime.mapiterinit", "classic", until=25),
    VersionHint("runtime.mapiternext", "classic", until=25),
    VersionHint("sync.(*Map).dirtyLocked", None, until=25),
    VersionHint("sync.(*Map).missLocked", None, until=25),
    VersionHint("sync.runtime_SemacquireMutex", None, until=23),
)
