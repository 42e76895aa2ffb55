"""Malformed, truncated and unsupported execution traces: always one InputError (or a
partial result for a trace cut off mid-generation), never another exception."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from mapdoctor.errors import InputError
from mapdoctor.formats.trace import looks_like_trace, parse_trace
from mapdoctor.formats.trace.batches import HEADER_LEN, read_batch, uvarint
from mapdoctor.formats.trace.spec import table_for
from mapdoctor.model.trace import ExecutionTrace
from testbytes import uvarint as _uvarint

TRACE_DIR = Path(__file__).parent / "fixtures" / "trace"
GO123 = TRACE_DIR / "go1.23-tiny.trace"
GO127 = TRACE_DIR / "go1.27-tiny.trace"
#: One tiny trace of each format version.
TINY = [TRACE_DIR / f"go1.{v}-tiny.trace" for v in (22, 23, 25, 27)]


def batch_offsets(data: bytes) -> list[int]:
    """Offsets of every batch header of a well-formed trace (and its end)."""
    pos, out = HEADER_LEN, []
    while pos < len(data):
        out.append(pos)
        pos = read_batch(data, pos).end
    out.append(len(data))
    return out


def header(minor: int) -> bytes:
    return f"go 1.{minor} trace\x00\x00\x00".encode()


def parse(data: bytes) -> ExecutionTrace:
    return parse_trace(data, "t.trace")


@pytest.mark.parametrize("minor", [11, 19, 21])
def test_old_format_is_unsupported(minor: int) -> None:
    data = header(minor) + bytes(64)
    assert looks_like_trace(data)
    with pytest.raises(InputError) as exc:
        parse(data)
    assert exc.value.what == "trace"
    assert f"unsupported trace version go 1.{minor}" in exc.value.why
    assert "1.22" in exc.value.why  # says what is supported
    assert str(exc.value).startswith("t.trace: trace: offset 0: ")


def test_real_go121_trace_is_unsupported() -> None:
    data = (TRACE_DIR / "go1.21.trace").read_bytes()  # written by Go 1.21.13
    assert looks_like_trace(data)
    with pytest.raises(InputError, match=r"unsupported trace version go 1\.21"):
        parse(data)


@pytest.mark.parametrize("minor", [24, 27, 99])
def test_unknown_versions(minor: int) -> None:
    with pytest.raises(InputError, match=f"unknown or unsupported trace version go 1.{minor}"):
        parse(header(minor) + bytes(8))


@pytest.mark.parametrize("data", [b"", b"go 1.", b"hello world, no trace", b"\x1f\x8b\x08\x00gzip"])
def test_not_a_trace(data: bytes) -> None:
    assert not looks_like_trace(data)
    with pytest.raises(InputError):
        parse(data)


def test_header_only() -> None:
    with pytest.raises(InputError, match="no events"):
        parse(header(26))


@pytest.mark.parametrize("path", TINY, ids=lambda p: p.name)
def test_truncation_at_every_batch_boundary(path: Path) -> None:
    data = path.read_bytes()
    full = parse(data)
    assert not full.partial and full.generations >= 2
    for cut in batch_offsets(data)[1:-1]:
        try:
            tr = parse(data[:cut])
        except InputError as err:
            assert err.why.startswith("offset "), err.why
            continue
        assert tr.generations <= full.generations
        if tr.partial:
            assert tr.generations >= 1
            assert tr.notes and "incomplete" in tr.notes[0]
        elif tr.format_version >= 26:  # cut exactly at a generation boundary
            assert tr.generations < full.generations
        # Before Go 1.26 nothing marks the end of a generation: like Go's reader, a last
        # generation cut at a batch boundary is read as it is if it still adds up.


@pytest.mark.parametrize("path", TINY, ids=lambda p: p.name)
def test_truncation_inside_batches(path: Path) -> None:
    data = path.read_bytes()
    offsets = batch_offsets(data)
    for a, b in pairwise(offsets):
        if b - a == 1:
            continue  # a one-byte end-of-generation marker: there is no inside
        for cut in {a + 1, a + 3, (a + b) // 2, b - 1}:
            if HEADER_LEN < cut < len(data):
                try:
                    tr = parse(data[:cut])
                except InputError as err:
                    assert err.why.startswith("offset ")
                else:
                    assert tr.partial


def test_truncated_go126_trace_keeps_complete_generations() -> None:
    data = GO127.read_bytes()
    full = parse(data)
    # Cut just before the last batch: every generation but the last is complete.
    cut = batch_offsets(data)[-2]
    tr = parse(data[:cut])
    assert tr.partial
    assert tr.generations == full.generations - 1
    assert "1 complete generation" in tr.notes[0] or f"{tr.generations} complete" in tr.notes[0]


def test_huge_declared_batch_size() -> None:
    # EventBatch gen=1 m=1 time=1 size=2**40
    batch = bytes([1, 1, 1, 1]) + bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x20])
    with pytest.raises(InputError, match="invalid batch size"):
        parse(header(26) + batch)
    with pytest.raises(InputError, match="invalid batch size 65537"):
        parse(header(23) + bytes([1, 1, 1, 1, 0x81, 0x80, 0x04]))


def test_varint_overflow() -> None:
    with pytest.raises(InputError, match="overflows"):
        parse(header(26) + bytes([1]) + b"\xff" * 12)


def test_not_a_batch() -> None:
    with pytest.raises(InputError, match="expected batch event, got event 9"):
        parse(header(26) + bytes([9, 0, 0]))


def _first_event_batch(data: bytes) -> tuple[int, int]:
    """(offset of the first event of the first per-thread event batch, batch offset)."""
    for off in batch_offsets(data)[:-1]:
        b = read_batch(data, off)
        if b.exp == 0 and b.end > b.start and table_for(int(data[5:7])).timed_width[data[b.start]] > 0:
            return b.start, off
    raise AssertionError("no event batch")


@pytest.mark.parametrize("code", [0, 60, 100, 127, 200, 255])
def test_unknown_event_type(code: int) -> None:
    data = bytearray(GO127.read_bytes())
    pos, _ = _first_event_batch(bytes(data))
    data[pos] = code
    with pytest.raises(InputError) as exc:
        parse(bytes(data))
    assert "event" in exc.value.why
    assert exc.value.why.startswith(f"offset {pos}: ") or "offset" in exc.value.why


def test_event_type_newer_than_the_version() -> None:
    # GoSwitch (45) exists from the go 1.23 format on: in a go 1.22 trace it is invalid.
    data = bytearray(GO123.read_bytes())
    data[: HEADER_LEN] = header(22)
    pos, _ = _first_event_batch(bytes(data))
    data[pos] = 45
    with pytest.raises(InputError, match="invalid event type: 45"):
        parse(bytes(data))


def test_oversized_stack() -> None:
    # A stacks batch whose only stack claims 129 frames (the runtime writes at most 128).
    body = bytes([2, 3, 1, 0x81, 0x01]) + bytes(4 * 129)
    batch = bytes([1, 1, 1, 1, len(body) & 0x7F | 0x80, len(body) >> 7]) + body
    with pytest.raises(InputError, match="invalid stack size 129"):
        parse(header(23) + batch)


def test_oversized_string() -> None:
    body = bytes([4, 5, 1, 0x81, 0x10]) + b"x" * 2049
    batch = bytes([1, 1, 1, 1, len(body) & 0x7F | 0x80, len(body) >> 7]) + body
    with pytest.raises(InputError, match="invalid string size 2049"):
        parse(header(23) + batch)


def _with_first_delta(data: bytes, delta: bytes) -> bytes:
    """``data`` with the timestamp delta of the first event of its first event batch
    replaced by the raw varint bytes ``delta`` (the batch size adjusted to match)."""
    pos, off = _first_event_batch(data)
    b = read_batch(data, off)
    _, dt_end = uvarint(data, pos + 1, b.end, "dt")
    body = data[pos:pos + 1] + delta + data[dt_end:b.end]
    head = bytes([data[off]]) + b"".join(_uvarint(v) for v in (b.gen, b.m % (1 << 64), b.time, len(body)))
    return data[:off] + head + body + data[b.end:]


@pytest.mark.parametrize("delta", [(1 << 64) - 1, 1 << 63, 1 << 50])
def test_absurd_timestamps(delta: int) -> None:
    data = _with_first_delta(GO127.read_bytes(), _uvarint(delta))
    try:
        tr = parse(data)
    except InputError as err:
        assert err.why.startswith("offset ")
    else:
        assert tr.generations >= 1


def test_varint_longer_than_64_bits_in_an_event() -> None:
    data = _with_first_delta(GO127.read_bytes(), b"\xff" * 9 + b"\x02")
    with pytest.raises(InputError, match="overflows 64 bits"):
        parse(data)


def test_cpu_sample_bomb_is_refused_under_the_budget(tmp_path: Path) -> None:
    """300 KB of gzip inflating to 200 MiB of CPU samples: refused in one line, in seconds,
    before the samples are materialised."""
    import gzip

    from clirun import run_cli
    from testbytes import trace_cpu_sample_bomb

    path = tmp_path / "bomb.trace.gz"
    path.write_bytes(gzip.compress(trace_cpu_sample_bomb(200 << 20), mtime=0))
    # The child's own high-water mark: rusage would carry the test runner's peak into it.
    run = run_cli(["analyze", path], timeout=120)
    peak_mb = run.peak_rss_kib / 1024
    assert run.returncode == 2, run.err
    assert run.out == ""  # the error goes to stderr
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and "CPU samples" in lines[0] and "--max-memory" in lines[0]
    assert run.seconds < 60
    # The 200 MiB inflated trace is held once (no chunk join), never materialised as events, and
    # its own size counts against the budget the samples are refused by: 338 MB measured.
    assert peak_mb < 512, peak_mb
