"""Go's pprof profiles (profile.proto, usually gzipped) decoded into the model.

Decoding follows google/pprof in three phases: :mod:`.wire` parses bytes into raw messages
with integer IDs and string indices (C-backed protobuf parser, schema in :mod:`.schema`),
:mod:`.resolve` turns IDs and indices into model objects, and :mod:`.check` applies pprof's
validity rules. Every failure is an :class:`~mapdoctor.errors.InputError`.
"""

from __future__ import annotations

from mapdoctor.errors import InputError
from mapdoctor.formats.pprof.check import check_valid
from mapdoctor.formats.pprof.encode import encode_profile
from mapdoctor.formats.pprof.kind import ProfileKind, profile_kind
from mapdoctor.formats.pprof.resolve import resolve_profile
from mapdoctor.formats.pprof.wire import inflate, parse_census, parse_wire
from mapdoctor.model.profile import Profile

__all__ = [
    "ProfileKind",
    "decode_profile",
    "encode_profile",
    "looks_like_pprof",
    "profile_kind",
]


def decode_profile(data: bytes, path: str) -> Profile:
    """The profile in ``data`` (gzipped or not); ``path`` only names the input in errors."""
    wire = parse_wire(inflate(data, path), path)
    profile = resolve_profile(wire, path)
    check_valid(profile, path)
    return profile


def looks_like_pprof(data: bytes) -> bool:
    """Whether ``data`` (gzipped or not) parses as a profile with a sane header.

    Strict enough that text and other protobuf messages are refused: the bytes must parse
    as a Profile whose string table starts with "" and which has at least one sample type
    naming strings inside the table. It does not resolve samples; :func:`decode_profile`
    can still refuse a profile this accepts.
    Only the top level is parsed (the census view), so sniffing a large broken profile costs
    little.
    """
    try:
        raw = parse_census(inflate(data, "<sniff>"), "<sniff>")
    except InputError:
        return False
    table = raw.string_table
    if not table or table[0] != b"" or not raw.sample_type:
        return False
    n = len(table)
    return all(0 < vt.type < n and 0 <= vt.unit < n for vt in raw.sample_type)
