"""The numbers the verdict rests on, in one place (justified in docs/CLASSIFICATION.md).

A measured share becomes a cause when the lower bound of its 95 % interval clears its
threshold (``confirmed``), and a ``probable`` cause when only the point estimate does: a share
near a threshold then gives the same verdict run after run, and says that more samples would
tell. They were set from the lab programs' captures on Go 1.23 and 1.27 and checked against
the Go distribution's own benchmarks and tools (accuracy/): each situation's own signal sits
far above its threshold, and the healthy, idle and other-cause captures far below it.
"""

from __future__ import annotations

#: Fewer samples than this (0.5 s of CPU at 100 Hz; lock contention events; goroutines)
#: cannot support a confident verdict.
MIN_CPU_SAMPLES = 50
#: With fewer CPU samples than that, a CPU share confirms a cause only when its 95 % lower
#: bound shows it holds at least this much of the CPU. A short capture of a mostly idle
#: service (30 samples) otherwise confirms a 4-sample cause on one run and not the next,
#: as the share of a few-percent cost wanders with the service from window to window.
FEW_SAMPLES_CONFIRM = 0.5
MIN_LOCK_EVENTS = 50
#: Average busy cores below which the service is called idle during the window.
IDLE_CORES = 0.05
#: Share of CPU in map growth frames that makes map growth a cause.
MAP_GROWTH_MIN = 0.05
#: ... in runtime.growslice called from user code.
SLICE_GROWTH_MIN = 0.08
#: ... in sync.Map writes and locked read misses (reads alone are what it is built for).
SYNC_MAP_MIN = 0.10
#: ... creating small maps (makemap_small, the first group/bucket of each).
MAP_CREATION_MIN = 0.10
#: Allocation (mallocgc) plus collection (background marking and sweeping, mark assists) not
#: charged to a cause above: beyond this the program mostly manages memory. The Go GC aims at
#: 25 % of the CPU while it marks and runs only part of the time; allocation comes on top.
#: Lab: gcpressure 63-88 %, the healthy pre-sized service 12-24 %.
GC_MIN = 0.40
#: ... or mark assists alone above this (allocating goroutines are being slowed down).
GC_ASSIST_MIN = 0.35
#: Fewer GC assist samples than this cannot tell which allocations drive the GC (used only
#: when no allocation profile is given).
MIN_ASSIST_SAMPLES = 10
#: Time lost on locks: waiting time / (waiting + running time) from block/mutex profiles,
#: the share of CPU in lock operations, or the share of busy goroutines waiting on a lock.
LOCK_MIN = 0.25
#: A goroutine dump is one instant: with fewer goroutines caught in lock slow paths it cannot
#: tell contention from an ordinary brief wait, so it is never more than probable.
MIN_DUMP_WAITERS = 4
#: The verdict is map growth when its cause scores at least this fraction of the top cause.
MAP_GROWTH_VS_TOP = 0.5
#: Doubling-size allocations at one site, as a share of all bytes, to report from allocs alone.
ALLOC_SERIES_MIN = 0.10
