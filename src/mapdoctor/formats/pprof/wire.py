"""Phase one of decoding: bytes -> raw profile messages (integer IDs, string-table indices).

The protobuf runtime's C parser does the byte work; this module only names the shapes it
returns (as protocols, so the resolver is type-checked against field names) and turns parse
failures into :class:`InputError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, cast

from google.protobuf.message import DecodeError

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import gunzip, is_gzip
from mapdoctor.formats.pprof.schema import LabelMessage, ProfileColumnsMessage, ProfileMessage

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


class RawProfileColumns(Protocol):
    sample: RawSampleColumns
    time_nanos: Sequence[int]


@dataclass(frozen=True, slots=True)
class WireProfile:
    message: RawProfile
    columns: RawSampleColumns


def inflate(data: bytes, path: str) -> bytes:
    """``data`` itself, or its bounded gunzip when it is gzipped (profiles usually are)."""
    return gunzip(data, path) if is_gzip(data) else data


def parse_message(data: bytes, path: str) -> RawProfile:
    """The full view of an uncompressed profile."""
    if not data:
        raise InputError(path, WHAT, "empty input")
    try:
        return cast(RawProfile, ProfileMessage.FromString(data))
    except DecodeError:
        raise InputError(path, WHAT, "not a pprof profile (malformed protobuf)") from None


def parse_wire(data: bytes, path: str) -> WireProfile:
    """Both views of an uncompressed profile."""
    message = parse_message(data, path)
    try:
        columns = cast(RawProfileColumns, ProfileColumnsMessage.FromString(data))
    except DecodeError:
        # Only ``time_nanos`` can fail here: it is read as a (possibly packed) list.
        raise InputError(path, WHAT, "not a pprof profile (malformed protobuf)") from None
    if len(columns.time_nanos) > 1:
        raise InputError(
            path, WHAT, f"{len(columns.time_nanos)} concatenated profiles; decode them one at a time"
        )
    return WireProfile(message, columns.sample)


def parse_label(data: bytes, path: str) -> RawLabel:
    """One label from its encoding in :attr:`RawSampleColumns.label`."""
    try:
        return cast(RawLabel, LabelMessage.FromString(data))
    except DecodeError as exc:  # pragma: no cover - the full view already parsed these bytes
        raise InputError(path, WHAT, f"corrupt sample label ({exc})") from None
