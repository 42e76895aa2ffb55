"""Traces are parsed from a read-only map of the file, giving pages back as generations are
read: the result must be exactly what parsing the file's bytes gives."""

from __future__ import annotations

import mmap
from pathlib import Path

import pytest

from mapdoctor.formats.detect import InputKind, load_file
from mapdoctor.formats.limits import map_file, release_before, release_range
from mapdoctor.formats.trace import parse_trace

TRACE_DIR = Path(__file__).parent / "fixtures" / "trace"
# Both ways a generation ends: by spill (before Go 1.26) and by an in-band marker.
TRACES = [TRACE_DIR / "go1.23.trace", TRACE_DIR / "go1.27.trace", TRACE_DIR / "go1.25-tiny.trace"]


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_mapped_trace_parses_as_its_bytes(path: Path) -> None:
    expected = parse_trace(path.read_bytes(), str(path))
    mapped = map_file(path, b"go 1.")
    assert isinstance(mapped, mmap.mmap)
    with mapped:
        got = parse_trace(mapped, str(path))
    assert repr(got) == repr(expected)
    loaded = load_file(path)
    assert loaded.kind is InputKind.TRACE
    assert repr(loaded.trace) == repr(expected)


def test_map_file_only_maps_what_starts_with_the_head(tmp_path: Path) -> None:
    other = tmp_path / "cpu.pprof"
    other.write_bytes(b"\x1f\x8b rest")
    assert map_file(other, b"go 1.") is None
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert map_file(empty, b"go 1.") is None


def test_released_pages_read_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "data"
    body = b"go 1." + bytes(range(256)) * 64
    path.write_bytes(body)
    mapped = map_file(path, b"go 1.")
    assert mapped is not None
    with mapped:
        assert mapped[:] == body
        release_before(mapped, len(body))
        assert mapped[:] == body
        release_range(mapped, 100, len(body) - 100)  # whole pages inside only
        assert mapped[:] == body
    release_before(body, len(body))  # bytes: nothing to give back
    release_range(body, 0, len(body))
