"""The lab's committed captures, and the lab service itself (Go-marked tests)."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from gotools import go_tool
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.capture import (
    MAX_FIXTURE_BYTES,
    fixture_dir_name,
    local_paths_in,
    rewrite_profile_strings,
)
from mapdoctor.lab.scenarios import FIXTURE_SCENARIOS, LabService, scenario
from mapdoctor.lab.toolchain import LAB_VERSIONS, SWISS_GO, GoToolchain, find_go

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SERVICE_FILES = (
    "cpu.pb.gz", "trace.out", "allocs.pb.gz", "mutex.pb.gz", "block.pb.gz",
    "heap.pb.gz", "goroutine.pb.gz", "goroutine.txt", "gctrace.log",
)
GO_DIRS = tuple(fixture_dir_name(v) for v in LAB_VERSIONS)
CAPTURES = [(d, s) for d in GO_DIRS for s in FIXTURE_SCENARIOS]


def expected_files(name: str) -> tuple[str, ...]:
    return SERVICE_FILES if scenario(name).serves else ("crash.log",)


@pytest.mark.parametrize(("go_dir", "name"), CAPTURES)
def test_capture_files_exist_and_are_small(go_dir: str, name: str) -> None:
    folder = FIXTURES / go_dir / name
    for file in expected_files(name):
        path = folder / file
        assert path.is_file(), path
        size = path.stat().st_size
        assert 0 < size <= MAX_FIXTURE_BYTES, (path, size)


@pytest.mark.parametrize(("go_dir", "name"), CAPTURES)
def test_capture_formats(go_dir: str, name: str) -> None:
    folder = FIXTURES / go_dir / name
    if not scenario(name).serves:
        return
    for file in SERVICE_FILES:
        if file.endswith(".pb.gz"):
            assert gzip.decompress((folder / file).read_bytes())
    header = b"go 1.23 trace" if go_dir == "go1.23" else b"go 1.26 trace"
    assert (folder / "trace.out").read_bytes().startswith(header)
    assert (folder / "goroutine.txt").read_text().startswith("goroutine ")
    if name != "idle":  # an idle service may not collect at all
        assert re.search(r"^gc 1 @", (folder / "gctrace.log").read_text(), re.M)


def test_manifest_lists_every_capture_with_its_sizes() -> None:
    doc = json.loads((FIXTURES / "MANIFEST.json").read_text())
    by_dir = {e["dir"]: e for e in doc["captures"]}
    for go_dir, name in CAPTURES:
        entry = by_dir[f"{go_dir}/{name}"]
        assert entry["scenario"] == name
        assert fixture_dir_name(entry["go"]) == go_dir
        for file, size in entry["files"].items():
            assert (FIXTURES / go_dir / name / file).stat().st_size == size


@pytest.mark.parametrize("go_dir", GO_DIRS)
def test_crash_log_is_a_concurrent_map_write(go_dir: str) -> None:
    text = (FIXTURES / go_dir / "crash" / "crash.log").read_text()
    assert text.startswith("fatal error: concurrent map writes")
    assert "mapdoctorlab/racy_visits.go:" in text


def test_fixtures_hold_no_local_paths() -> None:
    files = [p for d in GO_DIRS for p in (FIXTURES / d).rglob("*") if p.is_file()]
    assert files
    leaks = {str(p.relative_to(FIXTURES)): hits for p in files if (hits := local_paths_in(p.read_bytes()))}
    assert not leaks


def test_profile_string_rewrite_round_trips() -> None:
    raw = gzip.decompress((FIXTURES / "go1.27" / "mapgrow-str" / "cpu.pb.gz").read_bytes())
    assert rewrite_profile_strings(raw, lambda s: s) == raw
    renamed = rewrite_profile_strings(raw, lambda s: "X" * 40 if s == "mapdoctorlab" else s)
    assert b"X" * 40 in renamed
    assert len(renamed) == len(raw) - len("mapdoctorlab") + 40


# --- with a Go toolchain ------------------------------------------------------------------------


def _pprof_cum(tc: GoToolchain, path: Path) -> dict[str, float]:
    """cum% by function from `go tool pprof -top -cum`."""
    out = subprocess.run([*go_tool(tc, "pprof"), "-top", "-cum", "-nodecount=300", str(path)],
                         env=tc.env(), capture_output=True, text=True, timeout=60, check=True).stdout
    shares: dict[str, float] = {}
    for line in out.splitlines():
        m = re.match(r"\s*\S+\s+\S+%\s+\S+%\s+\S+\s+(\S+)%\s+(.+?)(?: \((?:partial-)?inline\))?$", line)
        if m:
            shares[m.group(2)] = max(shares.get(m.group(2), 0.0), float(m.group(1)))
    return shares


GROWTH = ("runtime.hashGrow", "runtime.growWork_faststr", "runtime.growWork_fast64",
          "internal/runtime/maps.(*table).rehash", "internal/runtime/maps.(*Map).growToTable")


@pytest.mark.go
@pytest.mark.parametrize("version", LAB_VERSIONS)
def test_cpu_captures_show_their_situation(version: str) -> None:
    tc = find_go(version)
    base = FIXTURES / fixture_dir_name(version)

    def cpu(name: str) -> dict[str, float]:
        return _pprof_cum(tc, base / name / "cpu.pb.gz")

    def growth(shares: dict[str, float]) -> float:
        return sum(shares.get(n, 0.0) for n in GROWTH)

    assert growth(cpu("mapgrow-str")) > 40
    assert growth(cpu("mapgrow-int")) > 40
    assert growth(cpu("presized")) < 5
    assert cpu("slicegrow").get("runtime.growslice", 0.0) > 35
    gc = cpu("gcpressure")
    assert gc.get("runtime.gcBgMarkWorker", 0.0) + gc.get("runtime.gcAssistAlloc", 0.0) > 30
    sync_map = cpu("syncmap")
    if version == LAB_VERSIONS[0]:
        assert sync_map.get("sync.(*Map).dirtyLocked", 0.0) > 15
    else:
        assert max(v for k, v in sync_map.items() if "HashTrieMap[" in k) > 15
    mutex = _pprof_cum(tc, base / "mutex" / "mutex.pb.gz")
    assert mutex.get("main.(*counterSet).add", 0.0) > 80


@pytest.mark.go
def test_lab_service_end_to_end(tmp_path: Path) -> None:
    tc = find_go(SWISS_GO)
    binary = build_lab(tc)
    assert build_lab(tc) == binary  # cached
    stderr = tmp_path / "stderr.log"
    started = time.monotonic()
    with LabService(binary, "mapgrow-int", workers=1, env={"GODEBUG": "gctrace=1"},
                    stderr_path=stderr) as svc:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", svc.base_url)
        work = json.loads(svc.get("/work", timeout=30))
        assert work["latency_us"] > 0
        with urllib.request.urlopen(svc.base_url + "/debug/pprof/profile?seconds=1", timeout=30) as resp:
            profile = gzip.decompress(resp.read())
        stats = json.loads(svc.get("/stats", timeout=10))
    assert time.monotonic() - started < 30
    assert stats["scenario"] == "mapgrow-int"
    assert stats["requests"] >= 1 and stats["max_us"] >= stats["p50_us"] > 0
    assert b"mapdoctorlab/sessions.go" in profile
    assert b"runtime.mapassign_fast64" in profile
    assert svc.returncode is not None  # stopped and reaped
    assert "gc 1 @" in stderr.read_text()
