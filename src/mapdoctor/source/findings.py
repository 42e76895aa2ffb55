"""What `mapdoctor lint` reports: findings, their fixes, files it could not read, the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """SARIF's levels, so the value can be written to SARIF as is."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        return {"high": 2, "medium": 1, "low": 0}[self.value]


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: 1-based lines and columns (columns count characters), end exclusive;
    ``start_byte``/``end_byte`` index the file's bytes."""

    line: int
    column: int
    end_line: int
    end_column: int
    start_byte: int
    end_byte: int


@dataclass(frozen=True, slots=True)
class TextEdit:
    span: Span
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A replacement of source text. ``safe`` fixes are the only ones ``--fix`` applies."""

    description: str
    edits: tuple[TextEdit, ...]
    safe: bool
    unsafe_reason: str = ""


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a finding (the loop that fills a map, the delete call...)."""

    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class LineCost:
    """What the profiles measured at a finding's lines."""

    #: name of the profile value, e.g. ``cpu`` or ``alloc_space``, to the amount and its unit.
    values: dict[str, tuple[int, str]]
    #: share of each profile's total spent in map growth (CPU) or allocated (allocs) at the lines.
    share: float
    #: CPU samples at the lines whose stack shows map growth under ``runtime.mapassign*``.
    growth_share: float = 0.0


@dataclass(frozen=True, slots=True)
class CapacityEstimate:
    """A map's final size estimated from the allocation sizes measured at the line that fills it."""

    file: str
    line: int
    implementation: str  # "classic" (hmap buckets) or "swiss" (tables of groups)
    low: int  # the map held more than ``low`` entries ...
    high: int  # ... and at most ``high`` (inclusive)
    recommended: int  # the hint to use: the geometric middle of [low, high]
    evidence: str  # one line: which allocation sizes were read and what they imply
    key_size: int | None = None
    elem_size: int | None = None
    maps_observed: float = 0.0  # estimated number of maps filled at the line in the profile
    #: Why the range is not narrower, when it is wider than a factor of 2 (e.g. too few samples
    #: of the map's small tables to count the maps); empty when it is narrow.
    limit: str = ""

    def contains(self, n: int) -> bool:
        return self.low < n <= self.high

    @property
    def narrow(self) -> bool:
        """At most a factor of 2 wide: any hint in it avoids every growth but the last."""
        return not self.limit and self.high <= 2 * max(self.low, 1)


@dataclass(slots=True)
class Finding:
    rule: str
    file: str
    span: Span
    message: str
    severity: Severity
    confidence: Confidence
    symbol: str = ""
    bound: str | None = None
    fix: Fix | None = None
    related: list[Related] = field(default_factory=list)
    #: lines whose measured cost counts for this finding (the write in the loop, the make...).
    cost_lines: tuple[int, ...] = ()
    cost: LineCost | None = None
    capacity: CapacityEstimate | None = None
    #: the map's key and element sizes when the source shows its type (for capacity estimates).
    key_size: int | None = None
    elem_size: int | None = None

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    @property
    def end_line(self) -> int:
        return self.span.end_line


@dataclass(frozen=True, slots=True)
class SkippedFile:
    file: str
    reason: str


@dataclass(frozen=True, slots=True)
class ProfileSite:
    """A line a CPU profile blames (map growth, slice growth, sync.Map churn) and what covers it:
    a finding (``rule``, ``finding_file``:``finding_line``) or the ``reason`` there is none."""

    kind: str  # map_growth | slice_growth | sync_map
    file: str  # the source file when found, else as the profile names it
    line: int
    function: str
    share: float  # of the profile's CPU
    rule: str = ""
    finding_file: str = ""
    finding_line: int = 0
    reason: str = ""


@dataclass(slots=True)
class LintReport:
    findings: list[Finding] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    files_checked: int = 0
    lines_checked: int = 0
    profiles: list[str] = field(default_factory=list)
    #: with profiles: every blamed line, with the finding that covers it or why none does.
    profile_sites: list[ProfileSite] = field(default_factory=list)
