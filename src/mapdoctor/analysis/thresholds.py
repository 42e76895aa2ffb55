"""The numbers the verdict rests on, in one place (justified in docs/CLASSIFICATION.md).

They were set from the lab programs' captures on Go 1.23 and 1.27: each situation's own
signal sits far above its threshold, and the healthy, idle and other-cause captures far
below it.
"""

from __future__ import annotations

#: Fewer CPU samples than this (0.5 s of CPU at 100 Hz) cannot support a confident verdict.
MIN_CPU_SAMPLES = 50
#: Average busy cores below which the service is called idle during the window.
IDLE_CORES = 0.05
#: Share of CPU in map growth frames that makes map growth a cause.
MAP_GROWTH_MIN = 0.05
#: ... in runtime.growslice called from user code.
SLICE_GROWTH_MIN = 0.08
#: ... in sync.Map (and the runtime maps / hash tries beneath it).
SYNC_MAP_MIN = 0.10
#: GC background marking + mark assists not owned by a growth cause: above this the GC is a
#: cause of its own. Lab: gcpressure 52-62%, the healthy pre-sized service 17-28%.
GC_MIN = 0.40
#: ... or mark assists alone above this (allocating goroutines are being slowed down).
GC_ASSIST_MIN = 0.35
#: Lock wait rate / (lock wait rate + CPU rate): time goroutines wait on locks vs. run.
LOCK_MIN = 0.25
#: The verdict is map growth when its cause scores at least this fraction of the top cause.
MAP_GROWTH_VS_TOP = 0.5
#: Doubling-size allocations at one site, as a share of all bytes, to report from allocs alone.
ALLOC_SERIES_MIN = 0.10
