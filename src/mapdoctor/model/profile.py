"""The pprof profile model (after google/pprof's ``profile`` package), resolved form.

IDs have been resolved into object references by the decoder; the model knows nothing of
the wire format or of reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapdoctor.model.stack import Frame, Stack


@dataclass(frozen=True, slots=True)
class ValueType:
    type: str
    unit: str


@dataclass(frozen=True, slots=True)
class Function:
    id: int
    name: str
    system_name: str
    filename: str
    start_line: int


@dataclass(frozen=True, slots=True)
class Line:
    function: Function
    line: int
    column: int = 0


@dataclass(frozen=True, slots=True)
class Mapping:
    id: int
    start: int
    limit: int
    offset: int
    filename: str
    build_id: str


@dataclass(frozen=True, slots=True)
class Location:
    """An address; ``lines`` lists the inlined calls at it, innermost first (pprof order)."""

    id: int
    address: int
    mapping: Mapping | None
    lines: tuple[Line, ...]

    def frames(self) -> tuple[Frame, ...]:
        last = len(self.lines) - 1
        return tuple(
            Frame(ln.function.name, ln.function.filename, ln.line, inline=i < last)
            for i, ln in enumerate(self.lines)
        )


@dataclass(frozen=True, slots=True)
class Sample:
    """Values at one stack. Decoders may share one ``labels``/``num_labels`` dict between
    samples whose labels are equal, so treat them as read-only."""

    locations: tuple[Location, ...]  # leaf first
    values: tuple[int, ...]
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    num_labels: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def stack(self) -> Stack:
        return tuple(f for loc in self.locations for f in loc.frames())


@dataclass(slots=True)
class Profile:
    sample_types: list[ValueType]
    samples: list[Sample]
    locations: list[Location]
    functions: list[Function]
    mappings: list[Mapping]
    period_type: ValueType | None = None
    period: int = 0
    time_nanos: int = 0
    duration_nanos: int = 0
    comments: list[str] = field(default_factory=list)
    default_sample_type: str = ""
    drop_frames: str = ""
    keep_frames: str = ""

    def value_index(self, type_name: str) -> int | None:
        """Index of the sample value called ``type_name`` (e.g. ``"cpu"``), or None."""
        for i, vt in enumerate(self.sample_types):
            if vt.type == type_name:
                return i
        return None

    def total(self, index: int) -> int:
        return sum(s.values[index] for s in self.samples)
