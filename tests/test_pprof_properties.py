"""Properties of the pprof codec: any input decodes to a valid Profile or raises InputError.

Inputs: arbitrary bytes, arbitrary messages of the profile schema (dangling IDs, wild string
indices), and real Go profiles with flipped bits, cut tails and inserted bytes. Generated
profiles survive an encode/decode round trip unchanged.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapdoctor.errors import InputError
from mapdoctor.formats.pprof import decode_profile, encode_profile, looks_like_pprof, profile_kind
from mapdoctor.formats.pprof.check import check_valid
from mapdoctor.formats.pprof.schema import ProfileMessage
from mapdoctor.lab.toolchain import SWISS_GO
from mapdoctor.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType
from test_pprof_codec import capture_profiles, committed_fixtures

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decodes_or_refuses(data: bytes) -> Profile | None:
    """The one allowed behaviour: a Profile that passes the checks, or InputError."""
    try:
        prof = decode_profile(data, "in.pb.gz")
    except InputError as err:
        assert err.path == "in.pb.gz" and err.why and "\n" not in err.why
        return None
    check_valid(prof, "in.pb.gz")
    profile_kind(prof)
    for s in prof.samples:
        s.stack()
    return prof


@pytest.fixture(scope="module")
def real_profiles(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Uncompressed real profiles: the committed captures, or fresh ones from Go.

    One small profile per kind of interest: mutating a big one costs more without finding more.
    """
    paths = committed_fixtures()
    if not paths:
        capture = capture_profiles(SWISS_GO, tmp_path_factory.mktemp("pprof-props"))
        paths = list(capture.files.values())
    chosen: dict[str, bytes] = {}
    for path in paths:
        kind = path.name.split(".")[0]
        data = gzip.decompress(path.read_bytes())
        wanted = kind in ("cpu", "allocs", "heap", "block", "mutex") and len(data) < 256 << 10
        if wanted and (kind not in chosen or len(data) < len(chosen[kind])):
            chosen[kind] = data
    assert chosen, "no usable real profile"
    return list(chosen.values())


@SETTINGS
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    looks_like_pprof(data)
    decodes_or_refuses(data)
    decodes_or_refuses(gzip.compress(data))


_INDEX = st.integers(min_value=-2, max_value=12)
_ID = st.integers(min_value=0, max_value=6)


@st.composite
def raw_messages(draw: st.DrawFn) -> bytes:
    """Schema-valid messages whose IDs and string indices are often wrong."""
    msg: Any = ProfileMessage()
    strings = draw(st.lists(st.binary(max_size=6), max_size=8))
    if draw(st.booleans()):
        strings = [b"", *strings]
    msg.string_table.extend(strings)
    for _ in range(draw(st.integers(0, 3))):
        msg.sample_type.add(type=draw(_INDEX), unit=draw(_INDEX))
    for _ in range(draw(st.integers(0, 3))):
        msg.function.add(id=draw(_ID), name=draw(_INDEX), filename=draw(_INDEX), start_line=draw(_INDEX))
    for _ in range(draw(st.integers(0, 2))):
        msg.mapping.add(id=draw(_ID), filename=draw(_INDEX), build_id=draw(_INDEX))
    for _ in range(draw(st.integers(0, 4))):
        loc = msg.location.add(id=draw(_ID), mapping_id=draw(_ID), address=draw(_ID))
        for _ in range(draw(st.integers(0, 2))):
            loc.line.add(function_id=draw(_ID), line=draw(_INDEX), column=draw(_INDEX))
    for _ in range(draw(st.integers(0, 4))):
        s = msg.sample.add(
            location_id=draw(st.lists(_ID, max_size=4)), value=draw(st.lists(_INDEX, max_size=3))
        )
        for _ in range(draw(st.integers(0, 2))):
            s.label.add(key=draw(_INDEX), str=draw(_INDEX), num=draw(_INDEX), num_unit=draw(_INDEX))
    msg.comment.extend(draw(st.lists(_INDEX, max_size=2)))
    msg.default_sample_type = draw(_INDEX)
    msg.doc_url = draw(_INDEX)
    data: bytes = msg.SerializeToString()
    return data


@settings(SETTINGS, max_examples=100)
@given(raw_messages())
def test_arbitrary_profile_messages(data: bytes) -> None:
    decodes_or_refuses(data)


@pytest.mark.go
@SETTINGS
@given(choice=st.integers(0, 3), bits=st.lists(st.integers(min_value=0), min_size=1, max_size=8))
def test_real_profiles_with_flipped_bits(real_profiles: list[bytes], choice: int, bits: list[int]) -> None:
    data = bytearray(real_profiles[choice % len(real_profiles)])
    for bit in bits:
        bit %= len(data) * 8
        data[bit // 8] ^= 1 << (bit % 8)
    decodes_or_refuses(bytes(data))


@pytest.mark.go
@SETTINGS
@given(choice=st.integers(0, 3), cut=st.integers(min_value=0), extra=st.binary(max_size=16), gz=st.booleans())
def test_real_profiles_cut_and_spliced(
    real_profiles: list[bytes], choice: int, cut: int, extra: bytes, gz: bool
) -> None:
    data = real_profiles[choice % len(real_profiles)]
    cut %= len(data) + 1
    mutated = data[:cut] + extra + data[cut + len(extra) // 2 :]
    if gz:
        mutated = gzip.compress(mutated)
    decodes_or_refuses(mutated)
    # A gzip stream cut anywhere is refused, never half-read.
    packed = gzip.compress(data)
    assert decodes_or_refuses(packed[: cut % len(packed)]) is None


@pytest.mark.go
def test_real_profiles_are_accepted(real_profiles: list[bytes]) -> None:
    for data in real_profiles:
        assert looks_like_pprof(data)
        assert decodes_or_refuses(data) is not None


# --- round trip -------------------------------------------------------------------------------

# Printable text: strings travel as UTF-8 and the empty string is the table's entry 0.
_TEXT = st.text(st.sampled_from("ab_./()*é中\u2028 "), max_size=6)
_NONEMPTY = _TEXT.filter(bool)
_INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_UINT64 = st.integers(min_value=0, max_value=2**64 - 1)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    functions = [
        Function(i + 1, draw(_TEXT), draw(_TEXT), draw(_TEXT), draw(_INT64))
        for i in range(draw(st.integers(0, 4)))
    ]
    mappings = [
        Mapping(i + 1, draw(_UINT64), draw(_UINT64), draw(_UINT64), draw(_TEXT), draw(_TEXT))
        for i in range(draw(st.integers(0, 2)))
    ]
    locations = []
    for i in range(draw(st.integers(0 if not functions else 1, 5))):
        lines = tuple(
            Line(draw(st.sampled_from(functions)), draw(_INT64), draw(_INT64))
            for _ in range(draw(st.integers(0, 3) if functions else st.just(0)))
        )
        mapping = draw(st.sampled_from([None, *mappings]))
        locations.append(Location(i + 1, draw(_UINT64), mapping, lines))
    sample_types = [ValueType(draw(_NONEMPTY), draw(_TEXT)) for _ in range(draw(st.integers(1, 3)))]
    samples = []
    for _ in range(draw(st.integers(0, 6))):
        stack = tuple(draw(st.lists(st.sampled_from(locations), max_size=5))) if locations else ()
        values = tuple(draw(_INT64) for _ in sample_types)
        labels = draw(st.dictionaries(_NONEMPTY, st.lists(_NONEMPTY, min_size=1, max_size=2).map(tuple),
                                      max_size=2))
        nums = draw(st.dictionaries(_NONEMPTY, st.lists(_INT64.filter(bool), min_size=1, max_size=2).map(tuple),
                                    max_size=2))
        samples.append(Sample(stack, values, labels, nums))
    return Profile(
        sample_types=sample_types,
        samples=samples,
        locations=locations,
        functions=functions,
        mappings=mappings,
        period_type=draw(st.sampled_from([None, ValueType(draw(_TEXT), draw(_TEXT))])),
        period=draw(_INT64),
        time_nanos=draw(_INT64),
        duration_nanos=draw(_INT64),
        comments=draw(st.lists(_TEXT, max_size=3)),
        default_sample_type=draw(_TEXT),
        drop_frames=draw(_TEXT),
        keep_frames=draw(_TEXT),
    )


@settings(SETTINGS, max_examples=50)
@given(profiles(), st.booleans())
def test_round_trip(prof: Profile, gz: bool) -> None:
    data = encode_profile(prof)
    decoded = decode_profile(gzip.compress(data) if gz else data, "rt")
    assert decoded == prof


@pytest.mark.go
def test_round_trip_of_real_profiles(real_profiles: list[bytes]) -> None:
    for data in real_profiles:
        prof = decode_profile(data, "real")
        assert decode_profile(encode_profile(prof), "again") == prof
