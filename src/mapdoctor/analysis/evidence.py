"""Everything the processors extract from the inputs, before any verdict is drawn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mapdoctor.analysis.costs import CostBreakdown, SiteKey
from mapdoctor.analysis.findings import GoInfo, InputSummary
from mapdoctor.model.goroutines import Goroutine
from mapdoctor.model.stack import Frame


@dataclass(slots=True)
class GrowthSeries:
    """Allocations at one site whose sizes keep doubling: a map or slice growing unhinted."""

    site: SiteKey
    sizes: list[int]  # distinct block sizes, ascending
    bytes: float  # bytes allocated in the series
    objects: float


@dataclass(slots=True)
class AllocEvidence:
    source: str
    duration_ns: int
    total_bytes: float
    total_objects: float
    by_site: dict[SiteKey, float]  # alloc_space per user site
    series: list[GrowthSeries]


@dataclass(slots=True)
class CrashEvidence:
    path: str
    message: str  # "concurrent map writes"
    writers: list[tuple[Goroutine, Frame]]
    truncated: bool


@dataclass(slots=True)
class GCEvidence:
    """From a gctrace log: the GC's own account of its cost."""

    source: str
    cycles: int
    forced: int
    seconds: float  # time the log spans
    gc_cpu_percent: float | None  # the runtime's own running figure, last cycle
    stw_ms_total: float
    stw_ms_max: float
    assist_cpu_ms: float
    mark_cpu_ms: float
    heap_goal_mb_max: float


@dataclass(slots=True)
class DumpEvidence:
    path: str
    goroutines: int
    lock_waiters: dict[SiteKey, int]  # goroutines in a lock slow path, by the line that locks
    growing: dict[SiteKey, int]  # goroutines caught inside map growth (visible on Swiss builds)
    working: int = 0  # goroutines running, runnable or in a syscall, not waiting on a lock
    #: goroutines handing a contended lock over (in Unlock's slow path), by their line
    handoffs: dict[SiteKey, int] = field(default_factory=dict)


@dataclass(slots=True)
class Evidence:
    cpu: CostBreakdown | None = None
    #: Lock waits (block profile: where goroutines waited) or, failing that, mutex profile.
    locks: CostBreakdown | None = None
    allocs: AllocEvidence | None = None
    crashes: list[CrashEvidence] = field(default_factory=list)
    dumps: list[DumpEvidence] = field(default_factory=list)
    gc: GCEvidence | None = None
    go: GoInfo = field(default_factory=GoInfo)
    inputs: list[InputSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    partial: bool = False
    timeline: dict[str, Any] | None = None
    #: Samples per second of the CPU data (100 for Go's default profiler rate).
    cpu_cores: float | None = None  # average cores busy over the CPU window
