"""Property tests: whatever the bytes, the trace reader ends quickly with a model or one
InputError (random bit flips, byte changes, cuts and garbage in real traces)."""

from __future__ import annotations

import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapdoctor.errors import InputError
from mapdoctor.formats.trace import parse_trace
from mapdoctor.formats.trace.batches import HEADER_LEN
from mapdoctor.model.trace import ExecutionTrace

TRACE_DIR = Path(__file__).parent / "fixtures" / "trace"
TRACES = [(TRACE_DIR / f"go1.{v}-tiny.trace").read_bytes() for v in (22, 23, 25, 27)]
#: Generous bound on one parse of a tiny trace (it takes well under a second).
TIME_LIMIT_S = 20

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_error(data: bytes) -> ExecutionTrace | InputError:
    t0 = time.monotonic()
    try:
        result: ExecutionTrace | InputError = parse_trace(data, "fuzz.trace")
    except InputError as err:
        assert err.what == "trace"
        assert err.why.startswith("offset "), err.why
        assert "\n" not in str(err)
        result = err
    assert time.monotonic() - t0 < TIME_LIMIT_S
    return result


@SETTINGS
@given(which=st.sampled_from(range(len(TRACES))), flips=st.lists(st.tuples(st.integers(0), st.integers(0, 7)),
                                                        min_size=1, max_size=8))
def test_bit_flips(which: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(TRACES[which])
    for pos, bit in flips:
        i = HEADER_LEN + pos % (len(data) - HEADER_LEN)
        data[i] ^= 1 << bit
    parse_or_error(bytes(data))


@SETTINGS
@given(which=st.sampled_from(range(len(TRACES))), pos=st.integers(0), value=st.integers(0, 255))
def test_byte_changes(which: int, pos: int, value: int) -> None:
    data = bytearray(TRACES[which])
    data[HEADER_LEN + pos % (len(data) - HEADER_LEN)] = value
    parse_or_error(bytes(data))


@SETTINGS
@given(which=st.sampled_from(range(len(TRACES))), cut=st.integers(0))
def test_cut_anywhere(which: int, cut: int) -> None:
    data = TRACES[which]
    result = parse_or_error(data[: cut % (len(data) + 1)])
    if isinstance(result, ExecutionTrace) and result.partial:
        assert result.generations >= 1 and result.notes


@SETTINGS
@given(which=st.sampled_from(range(len(TRACES))), garbage=st.binary(min_size=1, max_size=300))
def test_garbage_appended(which: int, garbage: bytes) -> None:
    parse_or_error(TRACES[which] + garbage)


@SETTINGS
@given(minor=st.sampled_from([22, 23, 25, 26]), body=st.binary(max_size=400))
def test_random_bodies(minor: int, body: bytes) -> None:
    parse_or_error(f"go 1.{minor} trace\x00\x00\x00".encode() + body)


@SETTINGS
@given(which=st.sampled_from(range(len(TRACES))), start=st.integers(0), length=st.integers(1, 64))
def test_chunk_removed(which: int, start: int, length: int) -> None:
    data = TRACES[which]
    i = HEADER_LEN + start % (len(data) - HEADER_LEN)
    parse_or_error(data[:i] + data[i + length:])
