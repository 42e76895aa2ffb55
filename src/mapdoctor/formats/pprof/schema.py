"""profile.proto as data, turned into protobuf message classes at import time.

GOROOT ships no ``profile.proto``: the runtime hand-encodes the format with the field numbers
as constants (``src/runtime/pprof/proto.go``) and ``go tool pprof`` decodes it with
google/pprof's ``profile/encode.go`` (vendored under ``src/cmd/vendor``). The table below
restates that schema so that the C-backed protobuf runtime does the byte-level parsing and
no generated code or ``protoc`` is needed.

Every ``string`` of a profile lives in ``Profile.string_table`` and is referenced by index.
The table is declared ``bytes`` rather than ``string``: proto3 ``string`` fields reject
invalid UTF-8, while Go writes whatever bytes a symbol, file name or label holds and
google/pprof accepts them; the decoder converts the entries itself.
"""

from __future__ import annotations

from typing import Final

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

PACKAGE: Final = "perftools.profiles"
FILE_NAME: Final = "profile.proto"

#: (field name, number, type, repeated). Type is a scalar name or another message's name.
FieldSpec = tuple[str, int, str, bool]

#: The upstream schema (google/pprof ``proto/profile.proto``) field by field; every
#: ``int64`` whose name is a text (``name``, ``filename``, ``type``...) is a string-table index.
MESSAGES: Final[dict[str, tuple[FieldSpec, ...]]] = {
    "Profile": (
        ("sample_type", 1, "ValueType", True),
        ("sample", 2, "Sample", True),
        ("mapping", 3, "Mapping", True),
        ("location", 4, "Location", True),
        ("function", 5, "Function", True),
        ("string_table", 6, "bytes", True),
        ("drop_frames", 7, "int64", False),
        ("keep_frames", 8, "int64", False),
        ("time_nanos", 9, "int64", False),
        ("duration_nanos", 10, "int64", False),
        ("period_type", 11, "ValueType", False),
        ("period", 12, "int64", False),
        ("comment", 13, "int64", True),
        ("default_sample_type", 14, "int64", False),
        ("doc_url", 15, "int64", False),
    ),
    "ValueType": (
        ("type", 1, "int64", False),
        ("unit", 2, "int64", False),
    ),
    "Sample": (
        ("location_id", 1, "uint64", True),
        ("value", 2, "int64", True),
        ("label", 3, "Label", True),
    ),
    "Label": (
        ("key", 1, "int64", False),
        ("str", 2, "int64", False),
        ("num", 3, "int64", False),
        ("num_unit", 4, "int64", False),
    ),
    "Mapping": (
        ("id", 1, "uint64", False),
        ("memory_start", 2, "uint64", False),
        ("memory_limit", 3, "uint64", False),
        ("file_offset", 4, "uint64", False),
        ("filename", 5, "int64", False),
        ("build_id", 6, "int64", False),
        ("has_functions", 7, "bool", False),
        ("has_filenames", 8, "bool", False),
        ("has_line_numbers", 9, "bool", False),
        ("has_inline_frames", 10, "bool", False),
    ),
    "Location": (
        ("id", 1, "uint64", False),
        ("mapping_id", 2, "uint64", False),
        ("address", 3, "uint64", False),
        ("line", 4, "Line", True),
        ("is_folded", 5, "bool", False),
    ),
    "Line": (
        ("function_id", 1, "uint64", False),
        ("line", 2, "int64", False),
        ("column", 3, "int64", False),
    ),
    "Function": (
        ("id", 1, "uint64", False),
        ("name", 2, "int64", False),
        ("system_name", 3, "int64", False),
        ("filename", 4, "int64", False),
        ("start_line", 5, "int64", False),
    ),
}

#: A second view of samples, read in addition to the full one for speed: the encoded samples
#: of a chunk are concatenated and parsed as *one* Sample, so the parser merges them and the
#: repeated fields become columns holding all their location ids, values and (still encoded)
#: labels in wire order. Per-sample lengths from the full view cut the columns back into
#: samples; this turns millions of per-sample container reads into a few bulk ones.
COLUMN_MESSAGES: Final[dict[str, tuple[FieldSpec, ...]]] = {
    "SampleColumns": (
        ("location_id", 1, "uint64", True),
        ("value", 2, "int64", True),
        ("label", 3, "bytes", True),
    ),
}

#: A third view, read first and cheapest: every repeated message is left encoded (``bytes``),
#: so the parser only splits the top level. Its counts and sizes bound what decoding will
#: build, and the memory budget is checked against them before anything is built.
#: ``time_nanos`` is declared repeated to count its occurrences: two mean concatenated
#: profiles, which the parser would otherwise merge into one with shifted string indices
#: (google/pprof refuses them the same way).
CENSUS_MESSAGES: Final[dict[str, tuple[FieldSpec, ...]]] = {
    "ProfileCensus": (
        ("sample_type", 1, "CensusValueType", True),
        ("sample", 2, "bytes", True),
        ("mapping", 3, "bytes", True),
        ("location", 4, "bytes", True),
        ("function", 5, "bytes", True),
        ("string_table", 6, "bytes", True),
        ("time_nanos", 9, "int64", True),
    ),
    "CensusValueType": (
        ("type", 1, "int64", False),
        ("unit", 2, "int64", False),
    ),
}

#: The profile with its samples left encoded (one ``bytes`` per sample): everything else is
#: parsed, and the samples are decoded a bounded chunk at a time (see ``wire.SampleChunks``).
META_MESSAGES: Final[dict[str, tuple[FieldSpec, ...]]] = {
    "ProfileMeta": tuple(
        (name, number, "bytes", True) if name == "sample" else (name, number, type_name, repeated)
        for name, number, type_name, repeated in MESSAGES["Profile"]
    ),
}

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALARS: Final = {
    "int64": _FDP.TYPE_INT64,
    "uint64": _FDP.TYPE_UINT64,
    "bool": _FDP.TYPE_BOOL,
    "bytes": _FDP.TYPE_BYTES,
}


def file_descriptor(
    messages: dict[str, tuple[FieldSpec, ...]] = MESSAGES, name: str = FILE_NAME, depends: tuple[str, ...] = ()
) -> descriptor_pb2.FileDescriptorProto:
    """A message table as a proto3 ``FileDescriptorProto`` in package :data:`PACKAGE`."""
    fdp = descriptor_pb2.FileDescriptorProto(name=name, package=PACKAGE, syntax="proto3")
    fdp.dependency.extend(depends)
    for msg_name, fields in messages.items():
        msg = fdp.message_type.add(name=msg_name)
        for field_name, number, type_name, repeated in fields:
            field = msg.field.add(name=field_name, number=number)
            field.label = _FDP.LABEL_REPEATED if repeated else _FDP.LABEL_OPTIONAL
            if type_name in _SCALARS:
                field.type = _SCALARS[type_name]
            else:
                field.type = _FDP.TYPE_MESSAGE
                field.type_name = f".{PACKAGE}.{type_name}"
    return fdp


def _message_classes() -> dict[str, type[Message]]:
    # A private pool: another library registering its own profile.proto in the default
    # pool must not clash with ours.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_descriptor())
    pool.Add(file_descriptor(COLUMN_MESSAGES, "profile_columns.proto"))
    pool.Add(file_descriptor(CENSUS_MESSAGES, "profile_census.proto"))
    pool.Add(file_descriptor(META_MESSAGES, "profile_meta.proto", (FILE_NAME,)))
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{PACKAGE}.{name}"))
        for name in (*MESSAGES, *COLUMN_MESSAGES, *CENSUS_MESSAGES, *META_MESSAGES)
    }


CLASSES: Final = _message_classes()
#: The top-level message class; ``ProfileMessage.FromString(data)`` parses a profile.
ProfileMessage: Final = CLASSES["Profile"]
ProfileCensusMessage: Final = CLASSES["ProfileCensus"]
ProfileMetaMessage: Final = CLASSES["ProfileMeta"]
SampleColumnsMessage: Final = CLASSES["SampleColumns"]
LabelMessage: Final = CLASSES["Label"]
