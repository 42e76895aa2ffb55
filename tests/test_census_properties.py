"""The census's readers against arbitrary bytes: never an exception, never a hang.

A live process's memory changes under the reader, so every header, directory, table and bucket
the census decodes may be torn; a core or a census JSON file may be anything. Map layouts come
from the real lab binary's DWARF (both map implementations).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapdoctor.analysis.census_layout import Allocator, Layout, map_layout
from mapdoctor.analysis.census_maps import Budget, decode_map
from mapdoctor.cli.main import main
from mapdoctor.errors import InputError
from mapdoctor.formats.census_json import load_census
from mapdoctor.formats.dwarf import load_types
from mapdoctor.formats.elf import open_binary
from mapdoctor.lab.build import build_lab
from mapdoctor.lab.toolchain import CLASSIC_GO, SWISS_GO, find_go

BASE = 0x10000


class ByteMemory:
    """A little address space: ``data`` mapped at ``BASE``; everything else unmapped."""

    label = "bytes"

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, addr: int, size: int) -> bytes | None:
        off = addr - BASE
        if size <= 0 or off < 0 or off + size > len(self.data):
            return None
        return self.data[off:off + size]

    def readable(self, addr: int, size: int = 1) -> bool:
        return self.read(addr, size) is not None

    def close(self) -> None:
        pass


def _layouts(version: str) -> list[Layout]:
    binary = open_binary(build_lab(find_go(version)))
    try:
        types = load_types(binary)
    finally:
        binary.close()
    out = []
    for name in ("map[string]*main.scenario", "map[int64]int64", "map[string]map[string]int"):
        out.append(map_layout(types, types.types[types.by_name[name]]))
    return out


@pytest.fixture(scope="module", params=[CLASSIC_GO, SWISS_GO])
def layouts(request: pytest.FixtureRequest) -> list[Layout]:
    return _layouts(request.param)


# Words that look like pointers into the little address space, mixed with arbitrary bytes.
_word = st.one_of(st.integers(0, 2**64 - 1), st.integers(BASE, BASE + 4096), st.sampled_from([0, 1, 8, 1 << 40]))
_memory = st.lists(_word, min_size=8, max_size=512).map(lambda ws: b"".join(w.to_bytes(8, "little") for w in ws))


@pytest.mark.go
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_memory, want=st.booleans())
def test_decoding_arbitrary_memory_never_raises(layouts: list[Layout], data: bytes, want: bool) -> None:
    mem = ByteMemory(data)
    for lay in layouts:
        got = decode_map(mem, BASE, lay, Allocator(True), path="p", type_name="t", want_values=want,
                         budget=Budget(1 << 20))
        if got is not None:
            s = got.state
            assert s.len >= 0 and s.capacity >= 0 and s.bytes >= 0 and s.waste_bytes >= 0
            assert len(got.values) <= 8 * (1 << 20)


@settings(max_examples=200, deadline=None)
@given(doc=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20))
def test_census_json_loader_gives_a_census_or_one_error(tmp_path_factory: pytest.TempPathFactory,
                                                        doc: object) -> None:
    path = tmp_path_factory.mktemp("c") / "census.json"
    wrapped = {"schema": "mapdoctor/census@1", "maps": doc} if not isinstance(doc, dict) else \
        {"schema": "mapdoctor/census@1", **doc}
    path.write_text(json.dumps(wrapped))
    try:
        load_census(path)
    except InputError as err:
        assert "\n" not in str(err) and str(err).startswith(str(path))


def test_core_that_is_not_a_core(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "core"
    junk.write_bytes(b"not a core at all" * 10)
    exe = Path("/bin/sleep")
    capsys.readouterr()
    assert main(["census", "--core", str(junk), "--binary", str(exe)]) == 2
    assert capsys.readouterr().err.strip() == f"{exe}: binary: not a Go program (no Go build information)"


@pytest.mark.go
def test_core_that_is_an_executable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    binary = build_lab(find_go(CLASSIC_GO))
    junk = tmp_path / "core"
    junk.write_bytes(b"\x7fELF" + b"\0" * 60)
    capsys.readouterr()
    assert main(["census", "--core", str(junk), "--binary", str(binary)]) == 2
    assert capsys.readouterr().err.strip().startswith(f"{junk}: core: unreadable ELF")
    assert main(["census", "--core", str(binary), "--binary", str(binary)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"{binary}: core: an ELF file but not a core dump (e_type is not ET_CORE)"


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, msg in ((["census"], "give a PID or --core CORE"),
                      (["census", "--core", "x"], "--core needs --binary"),
                      (["census", "1", "--for", "1s"], "--for goes with --watch"),
                      (["census", "--core", "x", "--binary", "y", "--freeze"], "--freeze needs a running process")):
        capsys.readouterr()
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert msg in err and err.count("\n") == 0, err


@pytest.mark.go
def test_unsupported_go_version_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The lab binary with its build information saying go1.19.9: refused, with the range."""
    from elftools.elf.elffile import ELFFile

    original = build_lab(find_go(CLASSIC_GO))
    data = bytearray(original.read_bytes())
    with original.open("rb") as fh:
        sec = ELFFile(fh).get_section_by_name(".go.buildinfo")
        assert sec is not None
        start, size = sec["sh_offset"], sec["sh_size"]
    at = data.find(b"go1.23.9", start, start + size)
    assert at > 0
    data[at:at + 8] = b"go1.19.9"
    old = tmp_path / "old-go"
    old.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["census", "--core", str(tmp_path / "core"), "--binary", str(old)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"{old}: binary: go1.19.9 is not supported (the census reads Go 1.21 to 1.27)"
