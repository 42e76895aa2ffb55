"""Phase one of decoding: bytes -> raw profile messages (integer IDs, string-table indices).

The protobuf runtime's C parser does the byte work; this module only names the shapes it
returns (as protocols, so the resolver is type-checked against field names) and turns parse
failures into :class:`InputError`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from google.protobuf.message import DecodeError, Message

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import Budget, current_budget, gunzip, is_gzip
from mapdoctor.formats.pprof import cost
from mapdoctor.formats.pprof.schema import (
    LabelMessage,
    ProfileCensusMessage,
    ProfileMessage,
    ProfileMetaMessage,
    SampleColumnsMessage,
)

WHAT = "pprof"


class RawValueType(Protocol):
    type: int
    unit: int


class RawLabel(Protocol):
    key: int
    str: int
    num: int
    num_unit: int


class RawSample(Protocol):
    location_id: Sequence[int]
    value: Sequence[int]
    label: Sequence[RawLabel]


class RawMapping(Protocol):
    id: int
    memory_start: int
    memory_limit: int
    file_offset: int
    filename: int
    build_id: int


class RawLine(Protocol):
    function_id: int
    line: int
    column: int


class RawLocation(Protocol):
    id: int
    mapping_id: int
    address: int
    line: Sequence[RawLine]


class RawFunction(Protocol):
    id: int
    name: int
    system_name: int
    filename: int
    start_line: int


class RawProfile(Protocol):
    sample_type: Sequence[RawValueType]
    sample: Sequence[RawSample]
    mapping: Sequence[RawMapping]
    location: Sequence[RawLocation]
    function: Sequence[RawFunction]
    string_table: Sequence[bytes]
    drop_frames: int
    keep_frames: int
    time_nanos: int
    duration_nanos: int
    period_type: RawValueType
    period: int
    comment: Sequence[int]
    default_sample_type: int
    doc_url: int

    def HasField(self, field_name: str) -> bool: ...


class RawSampleColumns(Protocol):
    """All samples merged: their location ids, values and encoded labels, in wire order."""

    location_id: Sequence[int]
    value: Sequence[int]
    label: Sequence[bytes]


class RawProfileMeta(Protocol):
    """The profile with its samples still encoded, one ``bytes`` per sample."""

    sample_type: Sequence[RawValueType]
    sample: Sequence[bytes]
    mapping: Sequence[RawMapping]
    location: Sequence[RawLocation]
    function: Sequence[RawFunction]
    string_table: Sequence[bytes]
    drop_frames: int
    keep_frames: int
    time_nanos: int
    duration_nanos: int
    period_type: RawValueType
    period: int
    comment: Sequence[int]
    default_sample_type: int
    doc_url: int

    def HasField(self, field_name: str) -> bool: ...


class RawProfileCensus(Protocol):
    """The top level only: every repeated message still encoded."""

    sample_type: Sequence[RawValueType]
    sample: Sequence[bytes]
    mapping: Sequence[bytes]
    location: Sequence[bytes]
    function: Sequence[bytes]
    string_table: Sequence[bytes]
    time_nanos: Sequence[int]


@dataclass(frozen=True, slots=True)
class SampleChunk:
    """Consecutive samples decoded together: the full view gives each sample's field lengths,
    the merged view (all of them parsed as one Sample) their values in bulk."""

    first: int  # index of the chunk's first sample in the profile
    samples: Sequence[RawSample]
    columns: RawSampleColumns


#: Encoded sample bytes decoded per chunk: bounds the parser's temporary views whatever the
#: profile's size (a chunk's views cost about 40x its bytes at worst).
CHUNK_BYTES = 1 << 20
#: ``Profile.sample`` field header, by payload length.
_SAMPLE_TAG = b"\x12"


def _uvarint(v: int) -> bytes:
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


_PREFIXES = [_SAMPLE_TAG + _uvarint(n) for n in range(1 << 14)]


def _framed(payloads: Sequence[bytes]) -> bytes:
    """The samples re-encoded as the ``sample`` fields of a profile (for the full view)."""
    prefixes = _PREFIXES
    limit = len(prefixes)
    return b"".join([part for p in payloads
                     for part in ((prefixes[len(p)] if len(p) < limit else _SAMPLE_TAG + _uvarint(len(p))), p)])


@dataclass(slots=True)
class WireProfile:
    """A profile parsed except for its samples, which :meth:`chunks` decodes under the budget."""

    message: RawProfileMeta
    census: cost.Census
    encoded: int  # uncompressed size
    path: str
    budget: Budget

    def chunks(self) -> Iterator[SampleChunk]:
        """The samples, a bounded chunk at a time. Before the model of a chunk is built, the
        memory of everything decoded so far plus that chunk is checked against the budget."""
        payloads = self.message.sample
        fixed = cost.fixed(self.census, self.encoded)
        model = frames = 0
        n = len(payloads)
        for start, end, size in _chunk_bounds(payloads):
            part = payloads[start:end]
            try:
                full = cast(RawProfile, ProfileMessage.FromString(_framed(part)))
                columns = cast(RawSampleColumns, SampleColumnsMessage.FromString(b"".join(part)))
            except DecodeError:
                raise InputError(self.path, WHAT, "not a pprof profile (malformed sample)") from None
            counts = _chunk_counts(columns)
            model += cost.chunk_model(len(part), counts)
            frames += counts.frames
            need = fixed + model + cost.chunk_views(size, counts, len(part))
            if need > self.budget.bytes:
                whole = fixed + cost.projected(model, end, n)
                self.budget.require(self.path, WHAT, max(need, whole),
                                    f"{n} samples, {frames} frames in the first {end}, "
                                    f"{self.census.locations} locations, {self.census.strings} strings")
            yield SampleChunk(start, full.sample, columns)


def _chunk_counts(columns: RawSampleColumns) -> cost.Columns:
    labels, values = columns.label, columns.value
    return cost.Columns(frames=len(columns.location_id), values=len(values),
                        distinct_values=len(set(values)) if values else 0,
                        labels=len(labels), distinct_labels=len(set(labels)) if labels else 0)


def _chunk_bounds(payloads: Sequence[bytes]) -> Iterator[tuple[int, int, int]]:
    """``(start, end, bytes)`` of consecutive chunks of about CHUNK_BYTES encoded bytes."""
    start, n = 0, len(payloads)
    while start < n:
        end, size = start, 0
        while end < n and (size < CHUNK_BYTES or end == start):
            size += len(payloads[end])
            end += 1
        yield start, end, size
        start = end


def inflate(data: bytes, path: str) -> bytes:
    """``data`` itself, or its bounded gunzip when it is gzipped (profiles usually are)."""
    return gunzip(data, path) if is_gzip(data) else data


def _parse(cls: type[Message], data: bytes, path: str) -> object:
    if not data:
        raise InputError(path, WHAT, "empty input")
    try:
        return cls.FromString(data)
    except DecodeError:
        raise InputError(path, WHAT, "not a pprof profile (malformed protobuf)") from None


def parse_message(data: bytes, path: str) -> RawProfile:
    """The full view of an uncompressed profile (every sample parsed at once: for small
    inputs and tests; decoding goes through :func:`parse_wire`)."""
    return cast(RawProfile, _parse(ProfileMessage, data, path))


def parse_census(data: bytes, path: str) -> RawProfileCensus:
    """The top level of an uncompressed profile, its messages left encoded (cheap)."""
    return cast(RawProfileCensus, _parse(ProfileCensusMessage, data, path))


def _total_len(items: Sequence[bytes]) -> int:
    return sum(map(len, items))


def census_counts(raw: RawProfileCensus) -> cost.Census:
    return cost.Census(
        samples=len(raw.sample), sample_bytes=_total_len(raw.sample), mappings=len(raw.mapping),
        locations=len(raw.location), location_bytes=_total_len(raw.location), functions=len(raw.function),
        strings=len(raw.string_table), string_bytes=_total_len(raw.string_table))


def parse_wire(data: bytes, path: str, budget: Budget | None = None) -> WireProfile:
    """The profile with its samples still encoded, parsed only after the memory budget
    allowed what the census counted (see :mod:`.cost`)."""
    budget = budget or current_budget()
    budget.require(path, WHAT, cost.COPIES * len(data), f"{len(data)} bytes uncompressed")
    raw = parse_census(data, path)
    if len(raw.time_nanos) > 1:
        raise InputError(path, WHAT, f"{len(raw.time_nanos)} concatenated profiles; decode them one at a time")
    census = census_counts(raw)
    del raw
    budget.require(path, WHAT, census.bound(len(data)), census.describe())
    message = cast(RawProfileMeta, _parse(ProfileMetaMessage, data, path))
    return WireProfile(message, census, len(data), path, budget)


def parse_label(data: bytes, path: str) -> RawLabel:
    """One label from its encoding in :attr:`RawSampleColumns.label`."""
    try:
        return cast(RawLabel, LabelMessage.FromString(data))
    except DecodeError as exc:  # pragma: no cover - the full view already parsed these bytes
        raise InputError(path, WHAT, f"corrupt sample label ({exc})") from None


def estimate_memory(data: bytes, path: str) -> int:
    """What decoding ``data`` (uncompressed) would need, as the budget checks see it, without
    building the model (for tests and benchmarks: decoding checks as it goes)."""
    raw = parse_census(data, path)
    census = census_counts(raw)
    del raw
    message = cast(RawProfileMeta, _parse(ProfileMetaMessage, data, path))
    fixed = cost.fixed(census, len(data))
    model = views = 0
    payloads = message.sample
    for start, end, size in _chunk_bounds(payloads):
        part = payloads[start:end]
        columns = cast(RawSampleColumns, SampleColumnsMessage.FromString(b"".join(part)))
        counts = _chunk_counts(columns)
        model += cost.chunk_model(len(part), counts)
        views = max(views, cost.chunk_views(size, counts, len(part)))
    return fixed + model + views
