"""What a census of a Go process's maps says, independent of how the memory was read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class MapState:
    """One map, decoded from its runtime header (and tables or buckets).

    ``capacity`` is the slots of the current table(s): 8 x 2^B buckets (classic) or the sum of
    the tables' capacities (Swiss; 8 for a small map with its one group, 0 before the first
    insert). ``bytes`` are the heap bytes the map holds, each allocation rounded to the
    runtime's size classes: header, buckets, overflow buckets and old buckets (classic), or
    header, directory, tables and groups (Swiss).
    """

    path: str
    type: str
    impl: str  # "classic" | "swiss"
    address: int
    len: int
    capacity: int
    bytes: int
    growing: bool
    overflow: int = 0  # classic: overflow buckets
    tombstones: int = 0  # Swiss: deleted slots still counted against growth
    #: Classic maps mid-growth: old buckets evacuated so far / old bucket count.
    evacuated: float | None = None
    old_capacity: int = 0
    tables: int = 0  # Swiss: distinct tables (0: small map)
    directory: int = 0  # Swiss: directory length
    #: Bytes ``make(map[K]V, len)`` would hold for the same len.
    fresh_bytes: int = 0
    #: False when the header kept changing under concurrent writes (values from the last read).
    stable: bool = True
    #: True when the bucket/group arrays were not walked (read budget) and sizes are estimates.
    estimated: bool = False
    #: Size of one bucket (classic) or group (Swiss) of this map type: what allocation profiles see.
    bucket_bytes: int = 0
    #: Address of the package-level variable holding this map, when it is one (0 otherwise):
    #: a resample reads the pointer again, so a map replaced by a new one is followed.
    root: int = 0

    @property
    def load(self) -> float:
        return self.len / self.capacity if self.capacity else 0.0

    @property
    def waste_bytes(self) -> int:
        return max(0, self.bytes - self.fresh_bytes)


@dataclass
class MapGroup:
    """All maps found at one path (and of one type), aggregated."""

    path: str
    type: str
    impl: str
    count: int = 0
    len: int = 0
    capacity: int = 0
    bytes: int = 0
    growing: int = 0  # how many of them are growing
    overflow: int = 0
    tombstones: int = 0
    waste_bytes: int = 0
    fresh_bytes: int = 0
    unstable: int = 0
    bucket_bytes: int = 0
    #: The largest maps at this path (by bytes), at most a handful.
    largest: list[MapState] = field(default_factory=list)
    #: Quantiles of len over the maps at this path: min, p50, p90, max.
    len_quantiles: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def load(self) -> float:
        return self.len / self.capacity if self.capacity else 0.0


@dataclass(frozen=True)
class GrowthEvent:
    """Between two samples, the capacity at a path went up (one event per doubling)."""

    t: float
    path: str
    capacity_from: int
    capacity_to: int
    doublings: int


@dataclass
class Sample:
    """One ``--watch`` sample: per path, (len, capacity, maps growing) summed."""

    t: float  # seconds since the first sample
    per_path: dict[str, tuple[int, int, int]]
    partial: bool = False


@dataclass
class Freeze:
    """A bounded stop of the target (``--freeze``)."""

    budget_ms: float
    stopped_ms: float
    threads: int
    maps_reread: int
    complete: bool


@dataclass(frozen=True)
class CensusFinding:
    """Something to change, found in the census (e.g. a map that never gave memory back)."""

    kind: str  # "never_shrinks" | "growing"
    path: str
    type: str
    message: str
    advice: str
    waste_bytes: int = 0


@dataclass
class Census:
    """The census of one process or core."""

    source: str  # "pid" | "core"
    pid: int
    core: str
    binary: str
    go_version: str
    impl: str  # "classic" | "swiss" | "mixed" | "none"
    dwarf_version: int
    maps: list[MapState]
    groups: list[MapGroup]
    roots: int  # package-level variables walked
    objects: int  # values visited
    elapsed_s: float
    bytes_read: int
    notes: list[str] = field(default_factory=list)
    partial: bool = False
    samples: list[Sample] = field(default_factory=list)
    events: list[GrowthEvent] = field(default_factory=list)
    freeze: Freeze | None = None
    limits: dict[str, int] = field(default_factory=dict)
    findings: list[CensusFinding] = field(default_factory=list)
