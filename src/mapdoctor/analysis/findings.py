"""What the analysis concludes: the verdict and its causes (the JSON contract's shape).

Reports render these objects; they never recompute anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from mapdoctor.analysis.stats import CONFIRMED, Share


class Verdict(StrEnum):
    MAP_GROWTH = "map_growth"
    NOT_MAP_GROWTH = "not_map_growth"
    INCONCLUSIVE = "inconclusive"


class CauseKind(StrEnum):
    MAP_GROWTH = "map_growth"
    SLICE_GROWTH = "slice_growth"
    SYNC_MAP = "sync_map"
    LOCK_CONTENTION = "lock_contention"
    GC_PRESSURE = "gc_pressure"
    CONCURRENT_MAP_WRITES = "concurrent_map_writes"
    #: Creating many small maps (each allocates on its first insert; no size hint helps).
    MAP_CREATION = "map_creation"
    CPU_STARVATION = "cpu_starvation"


@dataclass(slots=True)
class Site:
    """A place in the user's code that a cost is attributed to."""

    function: str
    file: str
    line: int
    share: float  # of the cause's measure (CPU, delay, bytes...), 0..1
    advice: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Cause:
    kind: CauseKind
    score: float  # 0..1, comparable across causes: the share of the service's time it costs
    evidence: list[str] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    #: The score's 95 % interval and the sample count it rests on (None: not a sampled share,
    #: e.g. a crash).
    interval: Share | None = None
    #: ``confirmed``: the interval's lower bound clears the cause's threshold; ``probable``:
    #: only the point estimate does (more samples would tell).
    status: str = CONFIRMED
    #: The threshold the status was judged against (0 when there is none).
    threshold: float = 0.0
    #: Share of CPU in garbage collection charged to this cause because its allocations drive
    #: the collector (included in ``score``).
    gc_charged: float = 0.0
    #: Share of CPU in GC mark assists its allocations triggered (included in ``score``).
    assists: float = 0.0
    #: What the score measures (an ``analysis.measures.Measure`` value); '' tells it from ``interval``.
    measure: str = ""


@dataclass(slots=True)
class GoInfo:
    version: str | None = None  # "go1.27.3"
    maps: str | None = None  # "swiss" | "classic"
    evidence: str = ""
    range: str | None = None  # "go1.24-go1.27" when only a range can be told


@dataclass(slots=True)
class InputSummary:
    path: str
    kind: str
    note: str = ""


class PlotData(Protocol):
    """Drawing data a report asks for: built when first asked (only the HTML report does), so
    JSON and terminal runs never pay for it."""

    def get(self) -> dict[str, Any]: ...


@dataclass(slots=True)
class Diagnosis:
    verdict: Verdict
    summary: str
    confidence: str  # "high" | "medium" | "low"
    go: GoInfo
    shares: dict[str, float]
    causes: list[Cause]
    inputs: list[InputSummary]
    notes: list[str] = field(default_factory=list)
    partial: bool = False
    timeline: dict[str, Any] | None = None
    #: CPU samples the shares rest on, and each share's 95 % interval (same keys as shares).
    cpu_samples: int = 0
    share_intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: What to do now, in order (``analysis.runbook``): each step an ``action`` sentence and its numbers.
    runbook: list[dict[str, Any]] = field(default_factory=list)
    #: What the HTML report draws (``analysis.plots``: flame graph, timeline lanes, source
    #: snippets), built on first use; rendering data, not part of the JSON contract.
    plots: PlotData | None = field(default=None, repr=False, compare=False)
