"""GODEBUG=gctrace=1,scavtrace=1,gcpacertrace=1 logs from real Go 1.23 and 1.27 programs.

Samples are made by tests/fixtures/text/regenerate_text.py (program gen/gcload). GC timings
differ run to run, so values are checked against the sample's own text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapdoctor.errors import InputError
from mapdoctor.formats.gctrace import looks_like_gctrace, parse_gctrace
from mapdoctor.model.gc import GCCycle, GCTrace

FIXTURES = Path(__file__).parent / "fixtures"
TEXT = FIXTURES / "text"
VERSIONS = ("go1.23", "go1.27")

# Real lines (go1.23.9 / go1.27.3 runs, as quoted in the runtime fact sheet).
LINE_123_FORCED = (
    "gc 9 @0.656s 6%: 0.020+32+0.006 ms clock, 0.041+0/13/26+0.012 ms cpu, 259->259->145 MB, "
    "298 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)"
)
LINE_127 = (
    "gc 9 @0.312s 3%: 0.041+21+0.036 ms clock, 0.083+0.11/11/15+0.072 ms cpu, 198->206->174 MB, "
    "232 MB goal, 0 MB stacks, 0 MB globals, 2 P"
)
# A go1.23.9 run of gen/gcload where the program's log line landed inside a gc line.
INTERLEAVED = (
    "gc 6 @0.868s 13%: 0.15+322+0.46 ms clock, 0.30+0/161/50+0.93 ms cpu, 62->64->56 MB, 68 MB goal, "
    "0 MB stacks, 0 MB globals, 2 P\n"
    "scav 0 KiB work (bg), 0 KiB work (eager), 432 KiB now, 0% util\n"
    "gc 7 @1.889s 10%: 69+0.38+0.003 ms clock, 138+0/gcload: round 2\n"
    "0.36/0+0.007 ms cpu, 98->98->0 MB, 113 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)\n"
)


def sample(version: str) -> str:
    return (TEXT / version / "gctrace.log").read_text(encoding="utf-8")


def fields_by_split(line: str) -> dict[str, object]:
    """The gc line's numbers read with plain string splitting, independently of the parser."""
    head, rest = line.split(": ", 1)
    words = head.split()
    clock, cpu, heap, *tail = rest.split(", ")
    sweep, mark, term = clock.removesuffix(" ms clock").split("+")
    c_sweep, c_mid, c_term = cpu.removesuffix(" ms cpu").split("+")
    assist, bg, idle = c_mid.split("/")
    start, end, live = heap.removesuffix(" MB").split("->")
    return {
        "number": int(words[1]),
        "at": float(words[2][1:-1]),
        "percent": int(words[3].rstrip("%")),
        "clock": (float(sweep), float(mark), float(term)),
        "cpu": (float(c_sweep), float(assist), float(bg), float(idle), float(c_term)),
        "heap": (int(start), int(end), int(live)),
        "goal": int(tail[0].split()[0]),
        "procs": int(tail[-1].split()[0]),
        "forced": line.endswith("(forced)"),
    }


def as_fields(c: GCCycle) -> dict[str, object]:
    return {
        "number": c.number,
        "at": c.at_seconds,
        "percent": c.gc_cpu_percent,
        "clock": (c.clock_ms.sweep_term, c.clock_ms.mark, c.clock_ms.mark_term),
        "cpu": (c.cpu_ms.sweep_term, c.cpu_ms.assist, c.cpu_ms.background, c.cpu_ms.idle, c.cpu_ms.mark_term),
        "heap": (c.heap_start_mb, c.heap_end_mb, c.heap_live_mb),
        "goal": c.heap_goal_mb,
        "procs": c.procs,
        "forced": c.forced,
    }


@pytest.mark.parametrize("version", VERSIONS)
def test_real_sample_counts(version: str) -> None:
    text = sample(version)
    lines = text.splitlines()
    trace = parse_gctrace(text, version)
    assert looks_like_gctrace(text)
    assert len(trace.cycles) == sum(1 for ln in lines if ln.startswith("gc "))
    assert len(trace.scavenges) == sum(1 for ln in lines if ln.startswith("scav "))
    assert trace.pacer_lines == sum(1 for ln in lines if ln.startswith("pacer: ")) > 0
    assert trace.junk_lines == sum(1 for ln in lines if ln.startswith("gcload: ")) == 5
    assert trace.junk_line_numbers[0] == 1
    assert trace.malformed_lines == 0 and not trace.truncated and trace.notes == []
    assert [c.number for c in trace.cycles] == list(range(1, len(trace.cycles) + 1))
    # runtime.GC() twice and debug.FreeOSMemory() at the end
    assert trace.forced_cycles() == sum(1 for ln in lines if ln.startswith("gc ") and ln.endswith("(forced)"))
    assert trace.forced_cycles() >= 3
    assert any(s.forced and s.eager_kib > 0 for s in trace.scavenges)


@pytest.mark.parametrize("version", VERSIONS)
def test_real_sample_values(version: str) -> None:
    text = sample(version)
    trace = parse_gctrace(text, version)
    lines = text.splitlines()
    for c in trace.cycles:
        line = lines[c.line_no - 1]
        assert as_fields(c) == fields_by_split(line)
        assert c.stacks_mb == 0 and c.globals_mb == 0 and not c.leak_check
        assert c.stw_pause_ms == pytest.approx(c.clock_ms.sweep_term + c.clock_ms.mark_term)
    assert trace.total_stw_ms() == pytest.approx(sum(c.stw_pause_ms for c in trace.cycles))
    share = trace.assist_cpu_share()
    assert share is not None and 0 <= share < 1


def test_exact_values_of_real_lines() -> None:
    trace = parse_gctrace(LINE_123_FORCED + "\n" + LINE_127 + "\n", "lines")
    a, b = trace.cycles
    assert (a.number, a.at_seconds, a.gc_cpu_percent, a.forced, a.procs) == (9, 0.656, 6, True, 2)
    assert (a.clock_ms.sweep_term, a.clock_ms.mark, a.clock_ms.mark_term) == (0.020, 32.0, 0.006)
    assert (a.cpu_ms.assist, a.cpu_ms.background, a.cpu_ms.idle) == (0.0, 13.0, 26.0)
    assert (a.heap_start_mb, a.heap_end_mb, a.heap_live_mb, a.heap_goal_mb) == (259, 259, 145, 298)
    assert a.stw_pause_ms == pytest.approx(0.026)
    assert b.cpu_ms.assist == 0.11 and b.heap_goal_mb == 232 and not b.forced
    assert b.assist_share == pytest.approx(0.11 / (0.11 + 11 + 15))
    assert trace.max_stw_ms() == pytest.approx(0.077)
    assert [c.line_no for c in trace.cycles] == [1, 2]


def test_interleaved_gc_line_is_rejoined() -> None:
    trace = parse_gctrace(INTERLEAVED, "mixed")
    assert [c.number for c in trace.cycles] == [6, 7]
    gc7 = trace.cycles[1]
    assert gc7.forced and gc7.line_no == 3
    assert (gc7.cpu_ms.sweep_term, gc7.cpu_ms.assist, gc7.cpu_ms.background) == (138.0, 0.0, 0.36)
    assert (gc7.heap_start_mb, gc7.heap_live_mb) == (98, 0)
    assert trace.junk_lines == 1 and trace.malformed_lines == 0
    assert any("rejoined" in n for n in trace.notes)


def test_runtime_variants() -> None:
    text = "\n".join(
        [
            # 1.26+ leak-detector cycle (src/runtime/mgc.go)
            "gc 3 @1.002s 1% (checking for goroutine leaks): 0.1+2.0+0.05 ms clock, 0.2+0/1.0/0.5+0.1 ms cpu, "
            "4->4->1 MB, 8 MB goal, 1 MB stacks, 2 MB globals, 8 P",
            # before Go 1.18: no stacks/globals
            "gc 4 @2.5s 2%: 0.018+1.3+0.076 ms clock, 0.14+0.35/1.2/3.0+0.61 ms cpu, 4->4->0 MB, 5 MB goal, 8 P",
            "scav 64 KiB work (bg), 0 KiB work (eager), 1024 KiB now, 95% util [controller reset]",
            "scav 0 KiB work (bg), 262592 KiB work (eager), 278008 KiB now, 100% util (forced)",
            "pacer: assist ratio=+4.971146e-001 (scan 72 MB in 145->291 MB) workers=0++2.500000e-001",
            "pacer: assist ratio=0.8205354110054348 (scan 2 MB in 3->4 MB) workers=0+0.25",
            "pacer: sweep done at heap size 3MB; allocated 0MB during sweep; swept 626 pages at 0.0004 pages/byte",
            "scan: total 55+51+14=120 objs, 8+3=11 spans",
            "2024-05-01T10:00:00.000Z stderr F gc 5 @3.000s 2%: 1+2+3 ms clock, 1+2/3/4+5 ms cpu, "
            "1->2->3 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P",
        ]
    )
    trace = parse_gctrace(text, "variants")
    leak, old, prefixed = trace.cycles
    assert leak.leak_check and (leak.stacks_mb, leak.globals_mb, leak.procs) == (1, 2, 8)
    assert old.stacks_mb is None and old.globals_mb is None and old.heap_goal_mb == 5
    assert prefixed.number == 5 and prefixed.stw_pause_ms == 4.0
    reset, forced = trace.scavenges
    assert reset.controller_reset and not reset.forced and reset.background_kib == 64
    assert forced.forced and forced.eager_kib == 262592 and forced.released_kib == 278008
    assert forced.util_percent == 100
    assert trace.pacer_lines == 3 and trace.scan_stat_lines == 1
    assert trace.junk_lines == 0 and trace.malformed_lines == 0


def test_malformed_lines_are_reported_not_fatal() -> None:
    text = LINE_127 + "\ngc 10 @0.4s 3%: broken\nscav 1 KiB work (bg), oops\napp: started\n" + LINE_123_FORCED + "\n"
    trace = parse_gctrace(text, "bad")
    assert len(trace.cycles) == 2
    assert trace.malformed_lines == 2
    assert any(n.startswith("line 2: malformed") for n in trace.notes)
    assert any(n.startswith("line 3: malformed") for n in trace.notes)
    assert trace.junk_lines == 1 and trace.junk_line_numbers == [4]
    assert not trace.truncated


def test_truncated_last_line() -> None:
    lines = sample("go1.27").splitlines(keepends=True)
    last = max(i for i, ln in enumerate(lines) if ln.startswith(("gc ", "scav ")))
    full = parse_gctrace("".join(lines[: last + 1]), "full")
    cut = parse_gctrace("".join(lines[:last]) + lines[last][:-8], "cut")
    assert cut.truncated and cut.malformed_lines == 0 and not full.truncated
    assert len(cut.cycles) + len(cut.scavenges) == len(full.cycles) + len(full.scavenges) - 1


def test_crlf_parses_the_same() -> None:
    text = sample("go1.23")
    a = parse_gctrace(text, "lf")
    b = parse_gctrace(text.replace("\n", "\r\n"), "crlf")
    assert a.cycles == b.cycles and a.scavenges == b.scavenges and a.junk_lines == b.junk_lines


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty input"),
        ("app started\napp stopped\n", "GODEBUG=gctrace=1"),
        ("pacer: assist ratio=0.5 (scan 2 MB in 3->4 MB) workers=0+0.25\n", "no 'gc N"),
        ("gc 1 @ nonsense\n", "no 'gc N"),
    ],
)
def test_not_a_gctrace(text: str, why: str) -> None:
    with pytest.raises(InputError) as err:
        parse_gctrace(text, "log.txt")
    assert err.value.what == "gctrace" and err.value.path == "log.txt"
    assert why in err.value.why


def test_sniffing() -> None:
    assert not looks_like_gctrace((TEXT / "go1.27" / "dump.txt").read_text(encoding="utf-8"))
    assert looks_like_gctrace("INFO start\n" + LINE_127 + "\n")
    assert looks_like_gctrace("scav 0 KiB work (bg), 0 KiB work (eager), 3008 KiB now, 87% util\n")


def test_model_methods_on_an_empty_trace() -> None:
    trace = GCTrace()
    assert trace.total_stw_ms() == 0 and trace.max_stw_ms() == 0
    assert trace.assist_cpu_share() is None and trace.forced_cycles() == 0


LAB = sorted(p.relative_to(FIXTURES).as_posix() for p in FIXTURES.glob("go1.*/*/gctrace*.log"))


@pytest.mark.parametrize("rel", LAB or [pytest.param("", marks=pytest.mark.skip(reason="no lab fixtures yet"))])
def test_lab_fixture(rel: str) -> None:
    text = (FIXTURES / rel).read_bytes().decode("utf-8", errors="replace")
    trace = parse_gctrace(text, rel)
    gc_lines = sum(1 for ln in text.splitlines() if ln.startswith("gc ") and " @" in ln)
    assert len(trace.cycles) == gc_lines - trace.malformed_lines
