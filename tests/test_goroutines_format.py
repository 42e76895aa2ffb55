"""Goroutine dumps and crash output from real Go 1.23 (classic maps) and 1.27 (Swiss maps) programs.

Samples are made by tests/fixtures/text/regenerate_text.py from the programs in
tests/fixtures/text/gen/; the file:line values asserted here are fixed by those programs'
source.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mapdoctor.errors import InputError
from mapdoctor.formats.goroutines import (
    MAX_FRAMES_PER_GOROUTINE,
    concurrent_map_writers,
    looks_like_goroutines,
    parse_goroutines,
)
from mapdoctor.model.goroutines import Goroutine, GoroutineDump

FIXTURES = Path(__file__).parent / "fixtures"
TEXT = FIXTURES / "text"
CRASH_SRC = "textgen/mapcrash/main.go"
DUMP_SRC = "textgen/dump/main.go"
VERSIONS = ("go1.23", "go1.27")


def sample(version: str, name: str) -> str:
    return (TEXT / version / name).read_text(encoding="utf-8")


def parse(version: str, name: str) -> GoroutineDump:
    return parse_goroutines(sample(version, name), f"{version}/{name}")


def header_ids(text: str) -> list[int]:
    """What `grep '^goroutine '` sees."""
    return [int(m.group(1)) for m in re.finditer(r"^goroutine (\d+) ", text, re.M)]


def by_id(dump: GoroutineDump, gid: int) -> Goroutine:
    return next(g for g in dump.goroutines if g.id == gid)


def first_user(g: Goroutine) -> str:
    return next(f.function for f in g.stack if f.function.startswith("main."))


ALL_SAMPLES = sorted(p.relative_to(TEXT).as_posix() for p in TEXT.glob("go1.*/*") if p.name != "gctrace.log")


# --- every sample ----------------------------------------------------------------------


@pytest.mark.parametrize("rel", ALL_SAMPLES)
def test_counts_match_grep(rel: str) -> None:
    text = (TEXT / rel).read_text(encoding="utf-8")
    dump = parse_goroutines(text, rel)
    ids = header_ids(text)
    # A goroutine printed twice (first as "stack unavailable") is one goroutine.
    assert len(dump.goroutines) == len(set(ids))
    assert [g.id for g in dump.goroutines] == list(dict.fromkeys(ids))
    assert not dump.truncated
    assert looks_like_goroutines(text)


@pytest.mark.parametrize("rel", ALL_SAMPLES)
def test_frames_are_clean(rel: str) -> None:
    dump = parse_goroutines((TEXT / rel).read_text(encoding="utf-8"), rel)
    for g in dump.goroutines:
        assert g.stack or g.state == "running"
        for f in g.stack:
            assert "(" not in f.function.replace("(*", "") and "+0x" not in f.file
            assert f.line > 0 and f.file.endswith((".go", ".s"))
        if g.id != 1:
            assert g.created_by is not None and g.created_by.line > 0


@pytest.mark.parametrize("rel", ALL_SAMPLES)
def test_no_machine_paths_committed(rel: str) -> None:
    text = (TEXT / rel).read_text(encoding="utf-8")
    local = {str(Path.home()), tempfile.gettempdir(), str(FIXTURES.parents[1]), sys.prefix}
    for private in local:
        assert private + "/" not in text
    # -trimpath: standard library files read "runtime/panic.go", program files "textgen/...".
    assert not re.search(r"^\t/", text, re.M)


# --- concurrent map writes -------------------------------------------------------------


def test_writes_go123_prints_every_goroutine() -> None:
    dump = parse("go1.23", "crash-writes.log")
    assert dump.fatal_error == "concurrent map writes"
    assert dump.panic_message is None
    assert len(dump.goroutines) == 3
    faulting = dump.goroutines[0]
    assert dump.faulting_goroutine == faulting.id
    assert faulting.state == "running"
    # Classic map internals are hidden from tracebacks: the writer is the leaf, inlined.
    assert faulting.stack[0].function == "main.writer"
    assert faulting.stack[0].inline
    assert faulting.created_by is not None
    assert faulting.created_by.function == "main.main"
    assert faulting.created_in == 1
    assert by_id(dump, 1).state == "sleep"
    assert by_id(dump, 1).stack[0].function == "time.Sleep"
    writers = concurrent_map_writers(dump)
    assert writers[0][0].id == faulting.id
    assert len(writers) == 2
    assert {f.where() for _, f in writers} == {f"{CRASH_SRC}:17"}


def test_writes_go127_default_prints_only_the_faulting_goroutine() -> None:
    dump = parse("go1.27", "crash-writes.log")
    assert dump.fatal_error == "concurrent map writes"
    assert len(dump.goroutines) == 1
    g = dump.goroutines[0]
    assert g.stack[0].function == "internal/runtime/maps.fatal"
    assert g.stack[0].file == "runtime/panic.go"
    assert not g.stack[0].inline
    writers = concurrent_map_writers(dump)
    assert len(writers) == 1
    assert writers[0][1].where() == f"{CRASH_SRC}:17"
    assert any("GOTRACEBACK=all" in n for n in dump.notes)


def test_writes_go127_gotraceback_all_shows_the_other_writer() -> None:
    dump = parse("go1.27", "crash-writes-all.log")
    assert len(dump.goroutines) == 3
    writers = concurrent_map_writers(dump)
    assert len(writers) == 2
    assert writers[0][0].id == dump.faulting_goroutine
    assert [f.where() for _, f in writers] == [f"{CRASH_SRC}:17"] * 2
    assert {g.state for g, _ in writers} <= {"running", "runnable"}
    assert not any("GOTRACEBACK=all" in n for n in dump.notes)


def test_writes_both_threads_caught_go123() -> None:
    text = sample("go1.23", "crash-writes-both.log")
    dump = parse_goroutines(text, "both")
    # Both writers printed "fatal error:"; their lines interleave in the real output.
    assert dump.fatal_error == "concurrent map writes"
    ids = header_ids(text)
    assert len(ids) == len(set(ids)) + 1
    assert len(dump.goroutines) == len(set(ids))
    # The goroutine first printed as "running on other thread" keeps its real stack.
    assert all(g.stack for g in dump.goroutines)
    writers = concurrent_map_writers(dump)
    assert len(writers) == 2
    assert all(f.where() == f"{CRASH_SRC}:17" for _, f in writers)


@pytest.mark.parametrize("version", VERSIONS)
def test_read_and_write(version: str) -> None:
    dump = parse(version, "crash-readwrite.log")
    assert dump.fatal_error == "concurrent map read and map write"
    writers = concurrent_map_writers(dump)
    reader, where = writers[0]
    assert reader.id == dump.faulting_goroutine
    assert where.function == "main.reader"
    assert where.where() == f"{CRASH_SRC}:23"
    if version == "go1.23":
        assert len(dump.goroutines) == 3
        assert [f.where() for _, f in writers[1:]] == [f"{CRASH_SRC}:17"]
    else:
        assert len(dump.goroutines) == 1


def test_iterate_gotraceback_system_go127() -> None:
    text = sample("go1.27", "crash-iterate-system.log")
    dump = parse_goroutines(text, "iterate")
    assert dump.fatal_error is not None and dump.fatal_error.startswith("concurrent map ")
    assert "gp=" in text and " fp=" in text
    faulting = dump.goroutines[0]
    assert faulting.stack[0].function == "runtime.fatal"
    assert first_user(faulting) == "main.iterator"
    assert any(f.function.startswith("internal/runtime/maps.(*Iter)") for f in faulting.stack)
    # GOTRACEBACK=system shows the runtime's own goroutines too.
    states = {g.state for g in dump.goroutines}
    assert {"force gc (idle)", "GC sweep wait"} <= states
    writers = concurrent_map_writers(dump)
    assert writers[0][1].where() == f"{CRASH_SRC}:29"
    assert f"{CRASH_SRC}:17" in {f.where() for _, f in writers[1:]}


# --- panics ----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_panic(version: str) -> None:
    dump = parse(version, "panic.log")
    assert dump.fatal_error is None
    assert dump.panic_message is not None
    assert dump.panic_message.startswith("missing key b\nsecond line of the message")
    if version == "go1.27":
        assert dump.panic_message.endswith("[recovered, repanicked]")
    else:
        assert "[recovered]\npanic: missing key b" in dump.panic_message
    assert dump.faulting_goroutine == 1
    g = dump.goroutines[0]
    assert g.state == "running"
    names = [f.function for f in g.stack]
    assert names == ["main.main.func1", "panic", "main.(*store).mustGet", "main.main"]
    must_get = g.stack[2]
    assert must_get.inline and must_get.where() == "textgen/panicking/main.go:15"
    assert concurrent_map_writers(dump) == []


# --- debug=2 dumps ---------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_states(version: str) -> None:
    dump = parse(version, "dump.txt")
    assert dump.fatal_error is None and dump.faulting_goroutine is None
    assert len(dump.goroutines) == 7
    main = by_id(dump, 1)
    assert main.state == "running" and main.created_by is None
    assert main.stack[0].function == "runtime/pprof.writeGoroutineStacks"

    locked = next(g for g in dump.goroutines if g.locked_to_thread)
    assert locked.state == "select (no cases)"
    assert locked.wait_minutes == 1
    assert locked.stack[0].function == "main.lockedWorker" and locked.stack[0].inline

    mutex = next(g for g in dump.goroutines if g.state == "sync.Mutex.Lock")
    assert mutex.wait_minutes == 1
    assert first_user(mutex) == "main.mutexWaiter"
    lock_frames = [f.function for f in mutex.stack if f.function.endswith("(*Mutex).Lock")]
    assert lock_frames == (["sync.(*Mutex).Lock"] if version == "go1.23"
                           else ["internal/sync.(*Mutex).Lock", "sync.(*Mutex).Lock"])

    deep = next(g for g in dump.goroutines if g.elided_frames)
    assert deep.state == "chan receive"
    assert len(deep.stack) == 100 and deep.elided_frames == 21
    assert {f.function for f in deep.stack} == {"main.recurse"}

    grower = next(g for g in dump.goroutines if g.state == "runnable")
    assert first_user(grower) == "main.mapGrower"
    for g in dump.goroutines:
        if g.id != 1:
            assert g.created_in == 1
            assert g.created_by is not None and g.created_by.file == DUMP_SRC
    assert sum(1 for g in dump.goroutines if g.wait_minutes == 1) == 5


def test_dump_labels_go127() -> None:
    dump = parse("go1.27", "dump.txt")
    labelled = [g for g in dump.goroutines if g.labels]
    assert len(labelled) == 1
    assert labelled[0].labels == (("handler", "fill"), ("tenant", "a b"))
    assert first_user(labelled[0]) == "main.labelled.func1"
    assert all(not g.labels for g in parse("go1.23", "dump.txt").goroutines)


# --- robustness ------------------------------------------------------------------------


def test_crlf_parses_the_same() -> None:
    text = sample("go1.27", "dump.txt")
    a = parse_goroutines(text, "lf")
    crlf = "\ufeff" + text.replace("\n", "\r\n")
    b = parse_goroutines(crlf, "crlf")
    assert a.goroutines == b.goroutines
    assert looks_like_goroutines(crlf)


def test_non_utf8_bytes_replaced_by_caller() -> None:
    raw = sample("go1.23", "crash-writes.log").encode()
    raw = raw.replace(b"some application log line", b"\xff\xfe log \xc3")
    dump = parse_goroutines(raw.decode("utf-8", errors="replace"), "bytes")
    assert dump.fatal_error == "concurrent map writes" and len(dump.goroutines) == 3


@pytest.mark.parametrize("cut_at", ["+0x", "textgen/dump/main.go:3", "main.recurse("])
def test_truncated_dump(cut_at: str) -> None:
    text = sample("go1.27", "dump.txt")
    cut = text[: text.index(cut_at, len(text) // 3) + len(cut_at)]
    dump = parse_goroutines(cut, "cut")
    assert dump.truncated
    assert len(dump.goroutines) == len(header_ids(cut))


def test_truncated_after_header() -> None:
    dump = parse_goroutines("goroutine 1 [running]:\nmain.main()\n\t/a/b.go:3 +0x1\n\ngoroutine 2 [select]:\n", "x")
    assert dump.truncated and [g.id for g in dump.goroutines] == [1, 2]


def test_log_lines_inside_and_around_a_dump() -> None:
    text = sample("go1.23", "crash-writes.log")
    lines = text.splitlines()
    at = lines.index("time.Sleep(0x6fc23ac00)") if "time.Sleep(0x6fc23ac00)" in lines else 12
    lines.insert(at, "2024/05/01 12:00:00 handler finished (status 200)")
    lines.insert(0, "INFO starting (pid 4242)")
    lines.append("exit status 2")
    dump = parse_goroutines("\n".join(lines) + "\n", "mixed")
    assert len(dump.goroutines) == 3
    assert by_id(dump, 1).stack[0].function == "time.Sleep"
    assert [f.function for f in by_id(dump, 1).stack] == ["time.Sleep", "main.main"]


def test_frame_cap() -> None:
    frames = "".join(f"main.f{i}(0x1)\n\t/src/x.go:{i + 1} +0x10\n" for i in range(MAX_FRAMES_PER_GOROUTINE + 50))
    dump = parse_goroutines(f"goroutine 1 [running]:\n{frames}\n", "deep")
    g = dump.goroutines[0]
    assert len(g.stack) == MAX_FRAMES_PER_GOROUTINE
    assert g.elided_frames == 50
    assert any("more than" in n for n in dump.notes)


def test_status_variants_from_traceback_go() -> None:
    text = (
        "goroutine 5 gp=0xc000007c00 m=nil [chan receive (scan), 12 minutes, locked to thread, synctest bubble 3]:\n"
        "main.f(...)\n\t/src/x.go:10\n"
        "created by main.main in goroutine 1\n\t/src/x.go:3 +0x25\n"
        "[originating from goroutine 1]:\nmain.main(...)\n\t/src/x.go:3 +0x25\n\n"
        "goroutine 6 [running]:\n\tgoroutine running on other thread; stack unavailable\n"
        "created by main.main\n\t/src/x.go:4 +0x30\n\n"
        "goroutine 7 [select] {key: \"a\\\"b\\n\", k2: v2}:\nmain.g()\n\t/src/x.go:11 +0x1\n"
        "...additional frames elided...\n"
    )
    dump = parse_goroutines(text, "variants")
    g5, g6, g7 = dump.goroutines
    assert (g5.state, g5.wait_minutes, g5.locked_to_thread) == ("chan receive", 12, True)
    assert g5.stack[0].inline and g5.created_in == 1 and len(g5.stack) == 1
    assert g6.stack == () and g6.created_in is None and g6.created_by is not None
    assert g6.created_by.where() == "/src/x.go:4"
    assert g7.labels == (("key", 'a"b\n'), ("k2", "v2")) and g7.elided_frames == -1
    assert not dump.truncated


def test_second_crash_report_is_not_mixed_in() -> None:
    text = sample("go1.23", "crash-writes.log")
    dump = parse_goroutines(text + "\n" + sample("go1.23", "panic.log"), "two")
    assert len(dump.goroutines) == 3 and dump.panic_message is None
    assert any("second crash report" in n for n in dump.notes)


def test_fatal_error_without_tracebacks() -> None:
    dump = parse_goroutines("fatal error: concurrent map writes\n", "none")
    assert dump.goroutines == [] and dump.fatal_error == "concurrent map writes"
    assert concurrent_map_writers(dump) == []


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty input"),
        ("   \n\n", "empty input"),
        ("hello\nworld\n", "no 'goroutine N"),
        ("goroutine profile: total 2\n2 @ 0x1 0x2\n#\t0x1\tmain.main+0x1\t/x.go:3\n", "debug=1"),
        ("goroutine 99999999999999999999999 [running]:\nmain.main()\n\t/x.go:1 +0x1\n", "no 'goroutine N"),
    ],
)
def test_not_a_dump(text: str, why: str) -> None:
    with pytest.raises(InputError) as err:
        parse_goroutines(text, "in.txt")
    assert err.value.path == "in.txt" and err.value.what == "goroutine dump"
    assert why in err.value.why
    assert not looks_like_goroutines(text)


def test_sniff_finds_a_crash_at_the_end_of_a_long_log() -> None:
    log = "".join(f"2024/05/01 12:00:00 request {i} served\n" for i in range(60_000))
    assert not looks_like_goroutines(log)
    assert looks_like_goroutines(log + sample("go1.27", "crash-writes.log"))


def test_sniff_rejects_other_text() -> None:
    assert not looks_like_goroutines(sample("go1.27", "gctrace.log"))
    assert looks_like_goroutines("INFO boot\npanic: x\n\ngoroutine 1 [running]:\nmain.main()\n")


def test_hundred_thousand_goroutines() -> None:
    """A dump the size of a busy server's: parsed in seconds, frames shared across goroutines."""
    blocks = [b for b in sample("go1.27", "dump.txt").split("\n\n") if "recurse" not in b]
    n = 100_000
    parts = [re.sub(r"^goroutine \d+", f"goroutine {i + 1}", blocks[i % len(blocks)], count=1) for i in range(n)]
    text = "\n\n".join(parts) + "\n"
    start = time.perf_counter()
    dump = parse_goroutines(text, "big")
    elapsed = time.perf_counter() - start
    assert len(dump.goroutines) == n
    assert elapsed < 30, f"{elapsed:.1f}s"  # ~2 s on an idle 2-core machine
    stacks = {id(g.stack) for g in dump.goroutines}
    assert len(stacks) <= len(blocks)


# --- lab fixtures made by the lab generator, when present ------------------------------

LAB = sorted(
    p.relative_to(FIXTURES).as_posix()
    for pattern in ("go1.*/*/goroutine*.txt", "go1.*/*/crash*.log", "go1.*/*/crash*.txt")
    for p in FIXTURES.glob(pattern)
)


@pytest.mark.parametrize("rel", LAB or [pytest.param("", marks=pytest.mark.skip(reason="no lab fixtures yet"))])
def test_lab_fixture(rel: str) -> None:
    raw = (FIXTURES / rel).read_bytes()
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("goroutine profile: total"):
        pytest.skip("debug=1 goroutine profile, not a traceback dump")
    dump = parse_goroutines(text, rel)
    assert len(dump.goroutines) == len(set(header_ids(text)))
    if dump.fatal_error and dump.fatal_error.startswith("concurrent map"):
        assert concurrent_map_writers(dump)
