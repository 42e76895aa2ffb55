"""The pprof codec on real captures: profiles written by runtime/pprof of Go 1.23 and 1.27.

The decoded model is compared with what `go tool pprof` reads from the same files; malformed
inputs must end in InputError with a precise reason, never in another exception.
"""

from __future__ import annotations

import gzip
import random
import re
import subprocess
import time
import tracemalloc
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.internal import api_implementation

from gotools import go_tool
from mapdoctor.errors import InputError
from mapdoctor.formats import limits
from mapdoctor.formats.pprof import decode_profile, encode_profile, looks_like_pprof, profile_kind
from mapdoctor.formats.pprof.check import check_valid
from mapdoctor.formats.pprof.kind import contention_kind, is_unlock_frame
from mapdoctor.formats.pprof.schema import MESSAGES, ProfileMessage, file_descriptor
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, GoToolchain, ToolchainError, find_go
from mapdoctor.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType

FIXTURES = Path(__file__).parent / "fixtures"
KINDS = ("cpu", "heap", "allocs", "mutex", "block", "goroutine", "threadcreate")

#: Writes one profile of each kind into the folder named by its argument. CPU work runs
#: under a pprof label so that string labels are exercised; contention is kept short.
GO_PROGRAM = r"""package main

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

var sink map[int]int

//go:noinline
func fill(n int) map[int]int {
	m := map[int]int{}
	for i := 0; i < n; i++ {
		m[i] = i
	}
	return m
}

func contend() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				mu.Lock()
				time.Sleep(time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ch := make(chan int)
	go func() {
		for i := 0; i < 20; i++ {
			ch <- i
		}
		close(ch)
	}()
	for range ch {
		time.Sleep(10 * time.Microsecond)
	}
}

func main() {
	dir := os.Args[1]
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	f, err := os.Create(dir + "/cpu.pb.gz")
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	start := time.Now()
	pprof.Do(context.Background(), pprof.Labels("worker", "maps"), func(context.Context) {
		for time.Since(start) < 300*time.Millisecond {
			sink = fill(1 << 16)
		}
	})
	contend()
	pprof.StopCPUProfile()
	f.Close()
	for _, name := range []string{"heap", "allocs", "mutex", "block", "goroutine", "threadcreate"} {
		f, err := os.Create(dir + "/" + name + ".pb.gz")
		if err != nil {
			panic(err)
		}
		if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
			panic(err)
		}
		f.Close()
	}
}
"""


@dataclass(frozen=True)
class Capture:
    toolchain: GoToolchain
    version: str
    files: dict[str, Path]


def capture_profiles(version: str, out: Path) -> Capture:
    """Build GO_PROGRAM with Go ``version`` and run it: one real profile per kind in ``out``."""
    try:
        tc = find_go(version)
    except ToolchainError as exc:
        pytest.skip(f"no Go {version}: {exc}")
    src = out / "src"
    src.mkdir(parents=True, exist_ok=True)
    (src / "main.go").write_text(GO_PROGRAM)
    (src / "go.mod").write_text("module pprofcapture\n\ngo 1.21\n")
    exe = out / "capture"
    subprocess.run(
        [str(tc.go), "build", "-trimpath", "-o", str(exe), "."],
        cwd=src, env=tc.env(), check=True, timeout=300, capture_output=True,
    )
    subprocess.run([str(exe), str(out)], check=True, timeout=120, capture_output=True)
    return Capture(tc, version, {k: out / f"{k}.pb.gz" for k in KINDS})


@pytest.fixture(scope="session", params=[CLASSIC_GO, SWISS_GO])
def capture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Capture:
    version: str = request.param
    return capture_profiles(version, tmp_path_factory.mktemp(f"pprof-go{version}"))


def committed_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("go1.*/*/*.pb.gz"))


def decode_file(path: Path) -> Profile:
    return decode_profile(path.read_bytes(), str(path))


def go_pprof(tc: GoToolchain, *args: str) -> str:
    proc = subprocess.run(
        [*go_tool(tc, "pprof"), *args],
        env=tc.env(), capture_output=True, text=True, timeout=120, check=True,
    )
    return proc.stdout


# --- the protobuf runtime and the schema ---------------------------------------------------


def test_protobuf_runtime_is_the_c_backed_upb() -> None:
    assert api_implementation.Type() == "upb"


def test_schema_is_the_full_profile_proto() -> None:
    fields = {msg: {name for name, *_ in spec} for msg, spec in MESSAGES.items()}
    assert set(fields) == {"Profile", "ValueType", "Sample", "Label", "Mapping", "Location", "Line", "Function"}
    assert {"doc_url", "default_sample_type", "comment"} <= fields["Profile"]
    assert "column" in fields["Line"] and "num_unit" in fields["Label"] and "is_folded" in fields["Location"]
    assert file_descriptor().syntax == "proto3"


def _go_tags(source: str) -> dict[tuple[str, str], int]:
    return {
        (m[1], m[2].lower()): int(m[3])
        for m in re.finditer(r"\btag(\w+?)_(\w+)\s*=\s*(\d+)", source)
    }


@pytest.mark.go
@pytest.mark.parametrize("version", [CLASSIC_GO, SWISS_GO])
def test_schema_field_numbers_match_runtime_pprof(version: str) -> None:
    """Every tag constant of runtime/pprof/proto.go has the same number in the schema."""
    try:
        tc = find_go(version)
    except ToolchainError as exc:
        pytest.skip(str(exc))
    tags = _go_tags((tc.goroot / "src/runtime/pprof/proto.go").read_text())
    assert len(tags) >= 40
    numbers = {
        (msg, name.replace("_", "")): number for msg, spec in MESSAGES.items() for name, number, *_ in spec
    }
    # Where Go's constant names differ from profile.proto's field names.
    aliases = {
        ("Sample", "location"): "locationid",
        ("Mapping", "start"): "memorystart",
        ("Mapping", "limit"): "memorylimit",
        ("Mapping", "offset"): "fileoffset",
    }
    for (msg, go_name), number in tags.items():
        name = aliases.get((msg, go_name), go_name)
        assert numbers.get((msg, name)) == number, (msg, go_name)


def _decoder_field_numbers(source: str) -> dict[str, set[int]]:
    """Field numbers google/pprof decodes: its decoder tables are indexed by field number."""
    out = {}
    for m in re.finditer(r"var (\w+)Decoder = \[\]decoder\{(.*?)\n\}", source, re.S):
        entries = re.findall(r"^\t(nil|func\()", m[2], re.M)
        out[m[1][0].upper() + m[1][1:]] = {i for i, e in enumerate(entries) if e != "nil"}
    return out


@pytest.mark.go
@pytest.mark.parametrize("version", [CLASSIC_GO, SWISS_GO])
def test_schema_covers_the_fields_go_tool_pprof_decodes(version: str) -> None:
    try:
        tc = find_go(version)
    except ToolchainError as exc:
        pytest.skip(str(exc))
    source = (tc.goroot / "src/cmd/vendor/github.com/google/pprof/profile/encode.go").read_text()
    decoded = _decoder_field_numbers(source)
    assert set(decoded) == set(MESSAGES)
    for msg, numbers in decoded.items():
        ours = {number for _, number, *_ in MESSAGES[msg]}
        assert numbers <= ours, msg
        if version == SWISS_GO:
            assert numbers == ours, msg


# --- real captures ----------------------------------------------------------------------------


@pytest.mark.go
def test_every_kind_decodes_and_is_recognised(capture: Capture) -> None:
    for kind, path in capture.files.items():
        data = path.read_bytes()
        assert looks_like_pprof(data), path
        assert looks_like_pprof(gzip.decompress(data)), path
        prof = decode_profile(data, str(path))
        check_valid(prof, str(path))
        got = profile_kind(prof)
        if kind in ("mutex", "block") and not prof.samples:
            assert got == "contention"
        else:
            assert got == kind, (capture.version, kind)


@pytest.mark.go
def test_headers_are_what_runtime_pprof_writes(capture: Capture) -> None:
    profiles = {k: decode_file(p) for k, p in capture.files.items()}
    cpu = profiles["cpu"]
    assert [(v.type, v.unit) for v in cpu.sample_types] == [("samples", "count"), ("cpu", "nanoseconds")]
    assert cpu.period_type == ValueType("cpu", "nanoseconds") and cpu.period == 10_000_000
    assert cpu.duration_nanos > 0 and cpu.time_nanos > 0
    mem_types = ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]
    for kind in ("heap", "allocs"):
        assert [v.type for v in profiles[kind].sample_types] == mem_types
        assert profiles[kind].period_type == ValueType("space", "bytes")
    assert profiles["allocs"].default_sample_type == "alloc_space"
    assert profiles["heap"].default_sample_type == ""
    for kind in ("mutex", "block"):
        assert [v.type for v in profiles[kind].sample_types] == ["contentions", "delay"]
    assert profiles["goroutine"].sample_types == [ValueType("goroutine", "count")]
    assert profiles["threadcreate"].sample_types == [ValueType("threadcreate", "count")]


@pytest.mark.go
def test_labels_inline_frames_and_shared_locations(capture: Capture) -> None:
    cpu = decode_file(capture.files["cpu"])
    labelled = [s for s in cpu.samples if s.labels]
    assert labelled and all(s.labels == {"worker": ("maps",)} for s in labelled)
    fill = [s for s in labelled if any(f.function == "main.fill" for f in s.stack())]
    assert fill, "the labelled CPU work runs in main.fill"

    allocs = decode_file(capture.files["allocs"])
    # runtime/pprof labels memory samples with their block size.
    assert any(s.num_labels for s in allocs.samples)
    assert all(set(s.num_labels) <= {"bytes"} and not s.labels for s in allocs.samples)

    by_id = {loc.id: loc for loc in cpu.locations}
    for s in cpu.samples:
        for loc in s.locations:
            assert loc is by_id[loc.id]
    inlined = [loc for loc in cpu.locations if len(loc.lines) > 1]
    assert inlined, "Go encodes inlined calls as several lines of one location"
    frames = inlined[0].frames()
    assert [f.inline for f in frames] == [True] * (len(frames) - 1) + [False]


_RAW_SAMPLE = re.compile(r"^\s*((?:-?\d+\s+)*-?\d+):((?:\s+\d+)*)\s*$")
_RAW_LOCATION = re.compile(r"^\s*(\d+): (0x[0-9a-f]+)(?: M=\d+)?(?: (\S+) \S+:\d+:\d+ s=\d+)?\s*$")
_RAW_INLINED = re.compile(r"^\s{10,}(\S+) \S+:\d+:\d+ s=\d+\s*$")


def parse_go_raw(text: str) -> tuple[list[tuple[tuple[int, ...], tuple[int, ...]]], dict[int, list[str]]]:
    """Samples (values, location ids) and location id -> function names of `pprof -raw`."""
    samples: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    functions: dict[int, list[str]] = {}
    section = ""
    current = 0
    for line in text.splitlines():
        if line in ("Samples:", "Locations", "Mappings"):
            section = line
            continue
        if section == "Samples:" and (m := _RAW_SAMPLE.match(line)):
            samples.append((tuple(map(int, m[1].split())), tuple(map(int, m[2].split()))))
        elif section == "Locations":
            if m := _RAW_LOCATION.match(line):
                current = int(m[1])
                functions[current] = [m[3]] if m[3] else []
            elif m := _RAW_INLINED.match(line):
                functions[current].append(m[1])
    return samples, functions


@pytest.mark.go
@pytest.mark.parametrize("kind", ["cpu", "allocs", "block"])
def test_matches_go_tool_pprof_raw(capture: Capture, kind: str) -> None:
    path = capture.files[kind]
    prof = decode_file(path)
    samples, functions = parse_go_raw(go_pprof(capture.toolchain, "-raw", str(path)))
    assert len(samples) == len(prof.samples)
    ours = Counter((s.values, tuple(loc.id for loc in s.locations)) for s in prof.samples)
    assert ours == Counter(samples)
    assert functions == {loc.id: [ln.function.name for ln in loc.lines] for loc in prof.locations}
    for i, vt in enumerate(prof.sample_types):
        assert prof.total(i) == sum(v[i] for v, _ in samples), vt


_TOP_ROW = re.compile(r"^\s*(-?\d+)\s+\S+%\s+\S+%\s+(-?\d+)\s+\S+%\s+(.+?)(?: \((?:partial-)?inline\))?\s*$")


def flat_and_cum(prof: Profile, index: int) -> tuple[Counter[str], Counter[str]]:
    """pprof's flat (leaf function) and cum (each function once per sample) per function."""
    flat: Counter[str] = Counter()
    cum: Counter[str] = Counter()
    for s in prof.samples:
        v = s.values[index]
        stack = s.stack()
        if stack:
            flat[stack[0].function] += v
        for name in {f.function for f in stack}:
            cum[name] += v
    return flat, cum


@pytest.mark.go
@pytest.mark.parametrize(("kind", "index"), [("allocs", "alloc_objects"), ("cpu", "samples")])
def test_top_functions_match_go_tool_pprof_top(capture: Capture, kind: str, index: str) -> None:
    path = capture.files[kind]
    prof = decode_file(path)
    out = go_pprof(capture.toolchain, "-top", "-nodefraction=0", "-nodecount=1000",
                   f"-sample_index={index}", str(path))
    rows = {m[3]: (int(m[1]), int(m[2])) for line in out.splitlines() if (m := _TOP_ROW.match(line))}
    assert rows, out
    i = prof.value_index(index)
    assert i is not None
    flat, cum = flat_and_cum(prof, i)
    assert {name: (flat[name], cum[name]) for name in rows} == rows
    assert {n for n, v in cum.items() if v} == set(rows)
    total = re.search(r"of (\d+) total", out)
    assert total and int(total[1]) == prof.total(i)


def _fixture_params() -> list[Any]:
    paths = committed_fixtures()
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no committed pprof fixtures"))]
    return [pytest.param(p, id=str(p.relative_to(FIXTURES))) for p in paths]


@pytest.mark.parametrize("path", _fixture_params())
def test_committed_fixtures_decode(path: Path) -> None:
    data = path.read_bytes()
    assert looks_like_pprof(data)
    prof = decode_profile(data, str(path))
    check_valid(prof, str(path))
    kind = profile_kind(prof)
    assert kind != "unknown"
    stem = path.name.removesuffix(".pb.gz")
    if stem in KINDS:
        assert kind == stem or (stem in ("mutex", "block") and kind == "contention")


@pytest.mark.go
def test_a_committed_fixture_matches_go_tool_pprof() -> None:
    paths = [p for p in committed_fixtures() if p.name.startswith(("cpu", "allocs"))]
    if not paths:
        pytest.skip("no committed pprof fixtures")
    tc = find_go(SWISS_GO)
    prof = decode_file(paths[0])
    samples, functions = parse_go_raw(go_pprof(tc, "-raw", str(paths[0])))
    assert Counter((s.values, tuple(loc.id for loc in s.locations)) for s in prof.samples) == Counter(samples)
    assert functions == {loc.id: [ln.function.name for ln in loc.lines] for loc in prof.locations}


# --- kinds ------------------------------------------------------------------------------------


def _profile(types: list[str], *, period: str = "", default: str = "",
             leaves: tuple[str, ...] = ()) -> Profile:
    functions = [Function(i + 1, name, name, "x.go", 1) for i, name in enumerate(leaves)]
    locations = [Location(f.id, 0x1000 + f.id, None, (Line(f, 10),)) for f in functions]
    samples = [Sample((loc,), tuple(1 for _ in types)) for loc in locations]
    return Profile(
        sample_types=[ValueType(t, "count") for t in types], samples=samples, locations=locations,
        functions=functions, mappings=[], period_type=ValueType(period, "count") if period else None,
        default_sample_type=default,
    )


def test_profile_kind_by_sample_types() -> None:
    mem = ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"]
    assert profile_kind(_profile(["samples", "cpu"], period="cpu")) == "cpu"
    assert profile_kind(_profile(mem, period="space")) == "heap"
    assert profile_kind(_profile(mem, period="space", default="alloc_space")) == "allocs"
    assert profile_kind(_profile(["alloc_objects", "alloc_space"])) == "allocs"
    assert profile_kind(_profile(["inuse_space"])) == "heap"
    assert profile_kind(_profile(["goroutine"], period="goroutine")) == "goroutine"
    assert profile_kind(_profile(["threadcreate"])) == "threadcreate"
    assert profile_kind(_profile(["goroutineleak"])) == "goroutineleak"
    assert profile_kind(_profile(["wall"])) == "unknown"
    assert profile_kind(_profile([])) == "unknown"


def test_mutex_and_block_are_told_apart_by_leaf_frames() -> None:
    types = ["contentions", "delay"]
    assert contention_kind(_profile(types, leaves=("sync.(*Mutex).Unlock",))) == "mutex"
    assert contention_kind(_profile(types, leaves=("internal/sync.(*RWMutex).RUnlock",))) == "mutex"
    assert contention_kind(_profile(types, leaves=("runtime._LostContendedRuntimeLock",))) == "mutex"
    assert contention_kind(_profile(types, leaves=("runtime.chanrecv1", "sync.(*Mutex).Lock"))) == "block"
    assert contention_kind(_profile(types, leaves=("runtime.selectgo",))) == "block"
    assert contention_kind(_profile(types)) == "contention"
    assert is_unlock_frame("runtime.unlock") and not is_unlock_frame("sync.(*Mutex).Lock")


# --- malformed input --------------------------------------------------------------------------


def _small_profile() -> Profile:
    fn = Function(1, "main.main", "main.main", "main.go", 3)
    mapping = Mapping(1, 0x400000, 0x500000, 0, "/bin/x", "abc")
    loc = Location(1, 0x401000, mapping, (Line(fn, 7, 2),))
    return Profile(
        sample_types=[ValueType("samples", "count"), ValueType("cpu", "nanoseconds")],
        samples=[Sample((loc,), (1, 10_000_000), {"worker": ("a",)}, {"bytes": (64,)})],
        locations=[loc], functions=[fn], mappings=[mapping],
        period_type=ValueType("cpu", "nanoseconds"), period=10_000_000, comments=["hello"],
        time_nanos=1_700_000_000_000_000_000,
    )


def _mutated(change: Callable[[Any], None]) -> bytes:
    msg: Any = ProfileMessage.FromString(encode_profile(_small_profile()))
    change(msg)
    data: bytes = msg.SerializeToString()
    return data


def _error(data: bytes) -> InputError:
    with pytest.raises(InputError) as info:
        decode_profile(data, "p.pb.gz")
    assert info.value.path == "p.pb.gz"
    return info.value


def test_small_profile_round_trips() -> None:
    prof = _small_profile()
    assert decode_profile(encode_profile(prof), "p") == prof
    assert decode_profile(gzip.compress(encode_profile(prof)), "p") == prof


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.sample[0].location_id.append(99), "sample 0 refers to location 99 which does not exist"),
        (lambda m: setattr(m.location[0], "mapping_id", 7), "location 1 refers to mapping 7 which does not exist"),
        (lambda m: setattr(m.location[0].line[0], "function_id", 5),
         "location 1 refers to function 5 which does not exist"),
        (lambda m: setattr(m.location[0].line[0], "function_id", 0), "location 1 has a line without a function"),
        (lambda m: setattr(m.function[0], "name", 1000),
         "function 1 name refers to string 1000, but the string table has"),
        (lambda m: setattr(m.sample_type[1], "unit", -1), "sample type 1 unit refers to string -1"),
        (lambda m: setattr(m.sample[0].label[0], "str", 555), "label worker value refers to string 555"),
        (lambda m: m.comment.append(77), "comment 1 text refers to string 77"),
        (lambda m: setattr(m, "doc_url", 77), "doc url refers to string 77"),
        (lambda m: m.sample[0].value.append(3), "sample 0 has 3 values but there are 2 sample types"),
        (lambda m: m.ClearField("sample_type"), "1 samples but no sample types"),
        (lambda m: m.function.add(id=0), "function with reserved id 0"),
        (lambda m: m.location.add(id=0), "location with reserved id 0"),
        (lambda m: m.location.add(id=1), "several locations with id 1"),
        (lambda m: m.mapping.add(id=1), "several mappings with id 1"),
        (lambda m: m.ClearField("string_table"), "string table is missing"),
        (lambda m: m.string_table.__setitem__(0, b"x"), "string table entry 0 must be empty"),
    ],
)
def test_inconsistent_profiles_are_refused_with_the_reason(change: Callable[[Any], None], reason: str) -> None:
    err = _error(_mutated(change))
    assert err.what == "pprof"
    assert reason in err.why


def test_concatenated_profiles_are_refused() -> None:
    # google/pprof refuses them too; merged, their string indices would point at wrong names.
    one = encode_profile(_small_profile())
    assert "2 concatenated profiles" in _error(one + one).why
    assert "3 concatenated profiles" in _error(gzip.compress(one) * 3).why


def test_a_field_with_an_unexpected_wire_type_is_refused() -> None:
    # time_nanos (field 9) as a length-delimited record holding bytes that are no varints.
    data = encode_profile(_small_profile()) + bytes([9 << 3 | 2, 2, 0xFF, 0xFF])
    assert "malformed protobuf" in _error(data).why


def test_invalid_utf8_in_strings_is_replaced_not_fatal() -> None:
    def change(m: Any) -> None:
        m.string_table.append(b"main.\xff\xfe")
        m.function[0].name = len(m.string_table) - 1

    prof = decode_profile(_mutated(change), "p")
    assert prof.functions[0].name == "main.\ufffd\ufffd"


def test_empty_input() -> None:
    assert _error(b"").why == "empty input"
    assert not looks_like_pprof(b"")


def test_truncated_and_corrupt_gzip() -> None:
    data = gzip.compress(encode_profile(_small_profile()))
    assert _error(data[: len(data) // 2]).what == "gzip"
    corrupt = bytearray(data)
    corrupt[12:20] = b"\xff" * 8
    assert _error(bytes(corrupt)).what == "gzip"
    assert not looks_like_pprof(data[:-6])


def _bomb(inflated: int) -> bytes:
    """Gzip members of zeros, concatenated: deflate's ~1000:1 limit makes 1 GiB take ~1 MiB."""
    member_size = 16 << 20
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    member = comp.compress(bytes(member_size)) + comp.flush()
    return member * (inflated // member_size)


def test_gzip_bomb_fails_at_the_cap_with_bounded_memory() -> None:
    bomb = _bomb(1 << 30)
    assert len(bomb) < 2 << 20
    tracemalloc.start()
    started = time.monotonic()
    try:
        err = _error(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.what == "gzip" and "inflates to more than" in err.why
    assert peak < limits.DEFAULT_MEMORY_BUDGET + (64 << 20)
    assert time.monotonic() - started < 20


def test_other_protobuf_messages_and_text_are_not_profiles() -> None:
    descriptor = file_descriptor().SerializeToString()
    assert not looks_like_pprof(descriptor)
    with pytest.raises(InputError):
        decode_profile(descriptor, "d.pb")
    text = b"goroutine profile: total 12\n1 @ 0x409065 0x7153ed\n"
    assert not looks_like_pprof(text)
    assert not looks_like_pprof(gzip.compress(text))
    with pytest.raises(InputError):
        decode_profile(text, "t.txt")


def test_random_bytes_are_refused() -> None:
    rng = random.Random(1)
    for size in (1, 7, 100, 4096):
        for _ in range(20):
            data = rng.randbytes(size)
            assert looks_like_pprof(data) in (True, False)
            try:
                prof = decode_profile(data, "r")
            except InputError:
                continue
            check_valid(prof, "r")


# --- speed ------------------------------------------------------------------------------------


def _large_profile_bytes(n_samples: int, depth: int) -> bytes:
    """A profile shaped like a big heap profile: deep distinct stacks, a size label each."""
    msg: Any = ProfileMessage()
    msg.string_table.extend([b"", b"alloc_space", b"bytes", b"x.go", *(f"f{i}".encode() for i in range(64))])
    msg.sample_type.add(type=1, unit=2)
    for i in range(64):
        msg.function.add(id=i + 1, name=4 + i, system_name=4 + i, filename=3)
        msg.location.add(id=i + 1, address=0x1000 + i).line.add(function_id=i + 1, line=i)
    base = list(range(17, 17 + depth - 4))
    for n in range(n_samples):
        stack = [1 + (n & 15), 1 + ((n >> 4) & 15), 1 + ((n >> 8) & 15), 1 + ((n >> 12) & 15), *base]
        msg.sample.add(location_id=stack, value=[n], label=[{"key": 2, "num": 16 << (n % 8)}])
    data: bytes = msg.SerializeToString()
    return data


def test_large_profile_decodes_quickly() -> None:
    data = _large_profile_bytes(50_000, 40)
    started = time.perf_counter()
    prof = decode_profile(data, "big")
    elapsed = time.perf_counter() - started
    assert len(prof.samples) == 50_000 and len(prof.samples[-1].locations) == 40
    assert prof.samples[3].num_labels == {"bytes": (128,)}
    # Typically ~0.3 s; the bound only catches a return to per-reference Python work.
    assert elapsed < 3.0, elapsed
