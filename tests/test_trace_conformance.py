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

from mapdoctor.formats.trace import parse_trace
from mapdoctor.formats.trace.dump import KindTimeDigest, digest_go_dump, dump_lines
from mapdoctor.formats.trace.reader import read_trace
from mapdoctor.lab.toolchain import SWISS_GO, ToolchainError, find_go

FIXTURES = Path(__file__).parent / "fixtures"
TRACE_DIR = FIXTURES / "trace"
COMMITTED = sorted(TRACE_DIR.glob("*.trace"))
LAB_CAPTURES = sorted([*FIXTURES.glob("go1.23/*/trace.out"), *FIXTURES.glob("go1.27/*/trace.out")])


def _reference(trace: Path) -> dict[str, object]:
    ref: dict[str, object] = json.loads(trace.with_name(trace.name + ".json").read_text())
    return ref


def test_fixtures_present() -> None:
    names = {p.name for p in COMMITTED}
    assert {"go1.23.trace", "go1.27.trace", "go1.23-tiny.trace", "go1.27-tiny.trace"} <= names
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
    assert tr.format_version == (23 if "1.23" in trace.name else 26)


def _go_dump(trace: Path) -> str:
    try:
        tc = find_go(SWISS_GO, install=False)
    except ToolchainError:
        pytest.skip(f"Go {SWISS_GO} is not installed")
    out = subprocess.run([str(tc.go), "tool", "trace", "-d=parsed", str(trace)], env=tc.env(),
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
