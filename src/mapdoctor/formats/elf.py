"""A Go executable as an ELF file: version, build ID, segments, and whether DWARF is there.

Only what the census needs from the binary itself. Types and package-level variables come
from its DWARF (:mod:`mapdoctor.formats.dwarf`); the Go version is read from the
``.go.buildinfo`` section, which survives ``strip`` and ``-ldflags=-s -w``, so a stripped
production binary can still be matched with the unstripped copy of the same build.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from mapdoctor.errors import InputError

_BUILDINFO_MAGIC = b"\xff Go buildinf:"
_ELF_MAGIC = b"\x7fELF"
PT_LOAD = "PT_LOAD"


@dataclass(frozen=True)
class Segment:
    """One ``PT_LOAD`` segment: ``filesz`` bytes at ``offset`` of the file map to ``vaddr``."""

    vaddr: int
    memsz: int
    offset: int
    filesz: int
    writable: bool


@dataclass
class GoBinary:
    """An opened Go ELF executable. ``close()`` releases the file."""

    path: Path
    elf: ELFFile
    handle: BinaryIO
    go_version: str  # "go1.23.9", "" when the build info is unreadable
    build_id: str  # the Go build ID (``.note.go.buildid``), "" when absent
    pie: bool
    segments: tuple[Segment, ...]

    @property
    def has_dwarf(self) -> bool:
        return self.elf.get_section_by_name(".debug_info") is not None or \
            self.elf.get_section_by_name(".zdebug_info") is not None

    def first_vaddr(self) -> int:
        return min((s.vaddr for s in self.segments), default=0)

    def read_static(self, vaddr: int, size: int) -> bytes | None:
        """The file's bytes at link-time address ``vaddr`` (``None`` outside the file's data)."""
        for seg in self.segments:
            if seg.vaddr <= vaddr and vaddr + size <= seg.vaddr + seg.filesz:
                self.handle.seek(seg.offset + vaddr - seg.vaddr)
                data = self.handle.read(size)
                return data if len(data) == size else None
        return None

    def close(self) -> None:
        self.handle.close()


def _go_version(elf: ELFFile, handle: BinaryIO) -> str:
    sec = elf.get_section_by_name(".go.buildinfo")
    if sec is None:
        return ""
    data = sec.data()[:4096]
    if not data.startswith(_BUILDINFO_MAGIC) or len(data) < 32:
        return ""
    flags = data[15]
    if not flags & 0x2:  # pre-1.18 layout (pointers to strings): outside the supported range
        return ""
    # Go >= 1.18: two varint-prefixed strings (version, module info) at offset 32.
    pos, shift, n = 32, 0, 0
    while pos < len(data):
        b = data[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    return data[pos:pos + n].decode("ascii", "replace")


def _go_build_id(elf: ELFFile) -> str:
    sec = elf.get_section_by_name(".note.go.buildid")
    if sec is None:
        return ""
    data = sec.data()
    if len(data) < 16:
        return ""
    namesz, descsz, _ = struct.unpack_from("<III", data)
    start = 12 + ((namesz + 3) & ~3)
    return data[start:start + descsz].decode("ascii", "replace")


def _segments(elf: ELFFile) -> Iterator[Segment]:
    for seg in elf.iter_segments():
        if seg["p_type"] == PT_LOAD:
            yield Segment(seg["p_vaddr"], seg["p_memsz"], seg["p_offset"], seg["p_filesz"],
                          bool(seg["p_flags"] & 0x2))


def open_binary(path: Path) -> GoBinary:
    """Open ``path`` as a 64-bit little-endian Go executable, or raise :class:`InputError`."""
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(name, "binary", exc.strerror or str(exc)) from None
    try:
        if handle.read(4) != _ELF_MAGIC:
            raise InputError(name, "binary", "not an ELF executable")
        handle.seek(0)
        try:
            elf = ELFFile(handle)
        except ELFError as exc:
            raise InputError(name, "binary", f"unreadable ELF ({exc})") from None
        if elf.elfclass != 64 or not elf.little_endian:
            raise InputError(name, "binary", "only 64-bit little-endian Go binaries are supported")
        version = _go_version(elf, handle)
        if not version and elf.get_section_by_name(".gopclntab") is None:
            raise InputError(name, "binary", "not a Go program (no Go build information)")
        return GoBinary(path=path, elf=elf, handle=handle, go_version=version,
                        build_id=_go_build_id(elf), pie=elf["e_type"] == "ET_DYN",
                        segments=tuple(_segments(elf)))
    except BaseException:
        handle.close()
        raise


def go_minor(version: str) -> int | None:
    """``"go1.23.9"`` -> 23; ``None`` when the string is not a release version."""
    if not version.startswith("go1."):
        return None
    digits = ""
    for ch in version[4:]:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else None
