"""Which runtime/pprof profile a decoded Profile is.

What Go writes (``src/runtime/pprof``, identical 1.21-1.27):

* cpu: sample types ``samples/count``, ``cpu/nanoseconds``; period type ``cpu/nanoseconds``.
* heap and allocs: both carry ``alloc_objects``, ``alloc_space``, ``inuse_objects``,
  ``inuse_space`` (``protomem.go``); only allocs sets ``default_sample_type = alloc_space``
  (``pprof.go`` ``writeAlloc`` -> ``writeHeapInternal(w, debug, "alloc_space")``); a delta
  profile fetched with ``?seconds=N`` has no default type but a duration, and is allocs too.
* goroutine, threadcreate, goroutineleak (1.26 experiment, 1.27): one ``<name>/count`` type.
* mutex and block: ``printCountCycleProfile(w, "contentions", "delay", ...)`` for both, so
  their metadata is byte-for-byte the same kind of thing. They differ in *where* stacks are
  recorded: the mutex profile at the unlock that ended contention (leaf
  ``sync.(*Mutex).Unlock``, ``runtime.unlock``, ``runtime._LostContendedRuntimeLock``), the
  block profile where a goroutine waited (``sync.(*Mutex).Lock``, ``runtime.chanrecv1``,
  ``runtime.selectgo``, ``sync.(*WaitGroup).Wait``...). The leaf frames, weighted by
  contentions, decide; without evidence either way the kind is ``"contention"``.
"""

from __future__ import annotations

from typing import Literal

from mapdoctor.model.profile import Profile

ProfileKind = Literal[
    "cpu",
    "heap",
    "allocs",
    "mutex",
    "block",
    "contention",
    "goroutine",
    "threadcreate",
    "goroutineleak",
    "unknown",
]

_ALLOC = frozenset({"alloc_objects", "alloc_space"})
_INUSE = frozenset({"inuse_objects", "inuse_space"})
_COUNT_PROFILES: tuple[ProfileKind, ...] = ("goroutine", "threadcreate", "goroutineleak")
#: Leaf functions of the mutex profile that do not have "unlock" in their name.
_MUTEX_LEAVES = frozenset({"runtime._LostContendedRuntimeLock"})


def profile_kind(profile: Profile) -> ProfileKind:
    types = {vt.type for vt in profile.sample_types}
    period = profile.period_type.type if profile.period_type else ""
    if "cpu" in types or period == "cpu":
        return "cpu"
    if types & (_ALLOC | _INUSE):
        if not types & _INUSE:
            return "allocs"
        if not types & _ALLOC:
            return "heap"
        # A delta profile (net/http/pprof's ``allocs?seconds=N``) loses default_sample_type
        # but gains a duration: allocations over a window are what ``allocs`` means.
        if profile.default_sample_type in _ALLOC or profile.duration_nanos > 0:
            return "allocs"
        return "heap"
    if "contentions" in types or "delay" in types:
        return contention_kind(profile)
    for name in _COUNT_PROFILES:
        if name in types or period == name:
            return name
    return "unknown"


def contention_kind(profile: Profile) -> Literal["mutex", "block", "contention"]:
    """Mutex or block profile, judged by the leaf frames (see the module docstring)."""
    weight_index = profile.value_index("contentions")
    mutex = block = 0
    for sample in profile.samples:
        if not sample.locations or not sample.locations[0].lines:
            continue
        weight = sample.values[weight_index] if weight_index is not None else 1
        if is_unlock_frame(sample.locations[0].lines[0].function.name):
            mutex += weight
        else:
            block += weight
    if mutex > block:
        return "mutex"
    if block > mutex:
        return "block"
    return "contention"


def is_unlock_frame(function: str) -> bool:
    """``sync.(*Mutex).Unlock``, ``sync.(*RWMutex).RUnlock``, ``runtime.unlock``..."""
    return function in _MUTEX_LEAVES or "unlock" in function.rsplit(".", 1)[-1].lower()
