"""The trace reader against Go's own (``go tool trace -d=parsed`` of Go 1.27.3).

Committed traces carry Go's dump digests in a JSON file next to them, so the exact
comparison runs without Go: same events, same kinds, same timestamps, same execution
context, same stacks, byte for byte. With a Go toolchain at hand (``-m go``) the
comparison also runs live, on those traces and on the lab captures (event lines; the
stack text is compared on the tiny traces, where it costs little).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from gotools import go_tool
from mapdoctor.formats.trace import parse_trace
from mapdoctor.formats.trace.batches import HEADER_LEN, read_batch, uvarint
from mapdoctor.formats.trace.dump import KindTimeDigest, digest_go_dump, dump_lines
from mapdoctor.formats.trace.reader import read_trace
from mapdoctor.formats.trace.spec import EV_FREQUENCY, EV_SYNC
from mapdoctor.lab.toolchain import SWISS_GO, ToolchainError, find_go
from testbytes import uvarint as uvarint_bytes

FIXTURES = Path(__file__).parent / "fixtures"
TRACE_DIR = FIXTURES / "trace"
#: Committed traces with a reference dump of Go's reader next to them.
COMMITTED = sorted(p for p in TRACE_DIR.glob("*.trace") if p.with_name(p.name + ".json").is_file())
LAB_CAPTURES = sorted([*FIXTURES.glob("go1.23/*/trace.out"), *FIXTURES.glob("go1.27/*/trace.out")])


def _reference(trace: Path) -> dict[str, object]:
    ref: dict[str, object] = json.loads(trace.with_name(trace.name + ".json").read_text())
    return ref


def test_fixtures_present() -> None:
    names = {p.name for p in COMMITTED}
    # One of each format version: go 1.22, 1.23 (Go 1.23), 1.25 and 1.26 (Go 1.27).
    assert {"go1.22-tiny.trace", "go1.23.trace", "go1.25-tiny.trace", "go1.27.trace"} <= names
    for p in COMMITTED:
        assert p.stat().st_size <= 1_000_000


@pytest.mark.parametrize("trace", COMMITTED, ids=lambda p: p.name)
def test_kinds_and_times_match_go(trace: Path) -> None:
    ref = _reference(trace)
    digest = KindTimeDigest()
    outcome = read_trace(trace.read_bytes(), digest)
    assert not outcome.partial
    assert outcome.generations >= (1 if "allocfree" in trace.name else 2 if "tiny" in trace.name else 3)
    assert digest.counts == ref["counts"]
    assert digest.hexdigest() == ref["kind_time_sha256"]


@pytest.mark.parametrize("trace", COMMITTED, ids=lambda p: p.name)
def test_event_lines_match_go(trace: Path) -> None:
    lines, _ = dump_lines(trace.read_bytes())
    text = "".join(line + "\n" for line in lines)
    assert hashlib.sha256(text.encode()).hexdigest() == _reference(trace)["lines_sha256"]


@pytest.mark.parametrize("trace", [p for p in COMMITTED if "tiny" in p.name or "allocfree" in p.name],
                         ids=lambda p: p.name)
def test_full_dump_matches_go(trace: Path) -> None:
    lines, _ = dump_lines(trace.read_bytes(), stacks=True)
    text = "".join(line + "\n" for line in lines)
    assert hashlib.sha256(text.encode()).hexdigest() == _reference(trace)["dump_sha256"]


@pytest.mark.parametrize("trace", COMMITTED, ids=lambda p: p.name)
def test_model_counts_match_go(trace: Path) -> None:
    tr = parse_trace(trace.read_bytes(), str(trace))
    assert tr.event_counts == _reference(trace)["counts"]
    assert tr.format_version == {"1.22": 22, "1.23": 23, "1.25": 25, "1.27": 26}[trace.name[2:6]]


def _go_dump(trace: Path) -> str:
    try:
        tc = find_go(SWISS_GO, install=False)
    except ToolchainError:
        pytest.skip(f"Go {SWISS_GO} is not installed")
    out = subprocess.run([*go_tool(tc, "trace"), "-d=parsed", str(trace)], env=tc.env(),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.go
@pytest.mark.parametrize("trace", COMMITTED + LAB_CAPTURES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_live_against_go(trace: Path) -> None:
    text = _go_dump(trace)
    counts, kind_time = digest_go_dump(text)
    digest = KindTimeDigest()
    read_trace(trace.read_bytes(), digest)
    assert digest.counts == counts
    assert digest.hexdigest() == kind_time
    lines, _ = dump_lines(trace.read_bytes())
    assert lines == [line for line in text.splitlines() if line.startswith("M=")]


def _with_odd_frequency(data: bytes) -> bytes:
    """The trace with every frequency event changed to ticks-per-second + 1, so tick to
    nanosecond conversion takes the general floating-point path (as on machines whose
    trace clock is not an exact divisor of a second)."""
    out = bytearray(data)
    pos = HEADER_LEN
    version = int(data[5:7])
    while pos < len(data):
        b = read_batch(data, pos)
        first = data[b.start] if b.end > b.start else -1
        if b.exp == 0 and first in (EV_FREQUENCY, EV_SYNC):
            p = b.start + (1 if version >= 25 else 0)
            while p < b.end:
                typ = data[p]
                if typ == EV_FREQUENCY:
                    f, end = uvarint(data, p + 1, b.end, "freq")
                    enc = uvarint_bytes(f + 1)
                    assert len(enc) == end - p - 1
                    out[p + 1:end] = enc
                    p = end
                else:  # a clock snapshot: four varints
                    p += 1
                    for _ in range(4):
                        _, p = uvarint(data, p, b.end, "clock")
        pos = b.end
    return bytes(out)


@pytest.mark.parametrize("name", ["go1.23-tiny.trace", "go1.27-tiny.trace"])
def test_odd_clock_frequency(name: str) -> None:
    data = (TRACE_DIR / name).read_bytes()
    odd = _with_odd_frequency(data)
    assert odd != data
    base = parse_trace(data, name)
    tr = parse_trace(odd, name)
    assert tr.event_counts == base.event_counts
    assert tr.end_ns != base.end_ns
    assert list(tr.sched_waits.start_ns) == sorted(tr.sched_waits.start_ns)
    digest = KindTimeDigest()
    read_trace(odd, digest)
    assert digest.counts == base.event_counts


@pytest.mark.go
@pytest.mark.parametrize("name", ["go1.23-tiny.trace", "go1.27-tiny.trace"])
def test_odd_clock_frequency_live(name: str, tmp_path: Path) -> None:
    odd = tmp_path / name
    odd.write_bytes(_with_odd_frequency((TRACE_DIR / name).read_bytes()))
    text = _go_dump(odd)
    lines, _ = dump_lines(odd.read_bytes(), stacks=True)
    assert "".join(line + "\n" for line in lines) == text
