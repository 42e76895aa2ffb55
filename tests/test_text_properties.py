"""Property tests: no text makes the text readers fail with anything but InputError, or hang.

Inputs are arbitrary text and real samples (tests/fixtures/text) damaged at random:
lines cut, dropped, duplicated or swapped, junk spliced in, the text truncated.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapdoctor.errors import InputError
from mapdoctor.formats.gctrace import looks_like_gctrace, parse_gctrace
from mapdoctor.formats.goroutines import concurrent_map_writers, looks_like_goroutines, parse_goroutines

TEXT = Path(__file__).parent / "fixtures" / "text"
SAMPLES = {p.relative_to(TEXT).as_posix(): p.read_text(encoding="utf-8") for p in sorted(TEXT.glob("go1.*/*"))}
DUMPS = sorted(k for k in SAMPLES if not k.endswith("gctrace.log"))
TRACES = sorted(k for k in SAMPLES if k.endswith("gctrace.log"))
PER_INPUT_SECONDS = 2.0

PROPS = settings(
    max_examples=150,
    deadline=None,  # timing is asserted explicitly, with a bound that tolerates a busy machine
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces that look like the formats, so random text reaches deep parser states.
FRAGMENTS = [
    "goroutine 1 [running]:",
    "goroutine 18 gp=0xc000102000 m=2 mp=0xc00004 [chan receive, 3 minutes, locked to thread]:",
    'goroutine 7 [select] {k: "a\\"b", x: y}:',
    "goroutine 99999999999999999999 [x]:",
    "main.main()",
    "main.f(...)",
    "main.(*T).m(0xc000010000, {0x4a5f60?, 0x0?})",
    "\t/src/main.go:23 +0x65",
    "\truntime/panic.go:1195 +0x18 fp=0xc000045fb8 sp=0xc000045f90 pc=0x4a1b25",
    "\t/src/main.go:",
    "\tgoroutine running on other thread; stack unavailable",
    "created by main.main in goroutine 1",
    "created by ",
    "...12 frames elided...",
    "...additional frames elided...",
    "[originating from goroutine 1]:",
    "fatal error: concurrent map writes",
    "fatal error: fatal error: concurrent map writes",
    "panic: boom [recovered]",
    "\tpanic: again",
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x0]",
    "gc 1 @0.010s 4%: 0.43+5.8+0.28 ms clock, 0.87+0.024/0.61/2.1+0.57 ms cpu, 3->4->3 MB, 4 MB goal, "
    "0 MB stacks, 0 MB globals, 2 P",
    "gc 2 @0.037s 5%: 0.41+10+0.43 ms clock, 0.83+0.42/",
    "gc 7 @1.889s 10% (checking for goroutine leaks): 69+0.38+0.003 ms clock, 138+0/",
    "0.36/0+0.007 ms cpu, 98->98->0 MB, 113 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)",
    "scav 0 KiB work (bg), 0 KiB work (eager), 3008 KiB now, 87% util",
    "scav 0 KiB work (bg), 262592 KiB work (eager)",
    "pacer: assist ratio=+4.971146e-001 (scan 72 MB in 145->291 MB) workers=0++2.500000e-001",
    "scan: total 1 objs",
    "",
    "\r",
    "\t",
    "\ufeff",
    "\ufffd\x00\x0b\u2028",
]

lines_st = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=60)


def mutate(text: str, data: st.DataObject) -> str:
    lines = text.split("\n")
    for _ in range(data.draw(st.integers(0, 6), label="mutations")):
        if not lines:
            break
        i = data.draw(st.integers(0, len(lines) - 1), label="at")
        op = data.draw(st.sampled_from(["cut", "drop", "dup", "swap", "junk", "fragment"]), label="op")
        if op == "cut":
            lines[i] = lines[i][: data.draw(st.integers(0, len(lines[i])), label="keep")]
        elif op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(lines) - 1), label="with")
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "junk":
            lines.insert(i, data.draw(st.text(max_size=30), label="junk"))
        else:
            lines.insert(i, data.draw(st.sampled_from(FRAGMENTS), label="fragment"))
    out = "\n".join(lines)
    if data.draw(st.booleans(), label="truncate"):
        out = out[: data.draw(st.integers(0, len(out)), label="length")]
    return out


def only_input_errors(parse: Callable[[str, str], object], text: str) -> None:
    start = time.perf_counter()
    try:
        parse(text, "prop")
    except InputError as err:
        assert err.path == "prop" and "\n" not in str(err)
    assert time.perf_counter() - start < PER_INPUT_SECONDS


def parse_dump_and_writers(text: str, path: str) -> object:
    dump = parse_goroutines(text, path)
    writers = concurrent_map_writers(dump)
    assert all(frame in g.stack for g, frame in writers)
    return dump


@PROPS
@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    only_input_errors(parse_dump_and_writers, text)
    only_input_errors(parse_gctrace, text)
    assert isinstance(looks_like_goroutines(text), bool)
    assert isinstance(looks_like_gctrace(text), bool)


@PROPS
@given(lines_st)
def test_format_like_fragments(lines: list[str]) -> None:
    text = "\n".join(lines)
    only_input_errors(parse_dump_and_writers, text)
    only_input_errors(parse_gctrace, text)


@PROPS
@given(st.sampled_from(DUMPS), st.data())
def test_mutated_real_dumps(name: str, data: st.DataObject) -> None:
    text = mutate(SAMPLES[name], data)
    only_input_errors(parse_dump_and_writers, text)
    looks_like_goroutines(text)


@PROPS
@given(st.sampled_from(TRACES), st.data())
def test_mutated_real_gctraces(name: str, data: st.DataObject) -> None:
    text = mutate(SAMPLES[name], data)
    only_input_errors(parse_gctrace, text)
    looks_like_gctrace(text)


@PROPS
@given(st.sampled_from(DUMPS + TRACES), st.integers(0, 10_000))
def test_any_prefix_of_a_real_sample(name: str, length: int) -> None:
    text = SAMPLES[name][:length]
    only_input_errors(parse_dump_and_writers, text)
    only_input_errors(parse_gctrace, text)
