"""A Go process's memory, read-only: a live process through ``/proc/PID/mem``, or a core file.

Both readers answer ``read(addr, size)`` with the bytes or ``None`` (unmapped, unreadable,
or outside what was captured) and never write. The live reader uses ``pread`` on
``/proc/PID/mem``, which needs ptrace *read* access (same user and
``kernel.yama.ptrace_scope`` <= 1 for a parent, 0 otherwise, or ``CAP_SYS_PTRACE``) but
never stops the target. The core reader maps ``PT_LOAD`` segments of an ELF core (``gcore``,
``GOTRACEBACK=crash``) and falls back to the executable's own file contents for read-only
segments the core left out, using the core's ``NT_FILE`` note to place them.
"""

from __future__ import annotations

import bisect
import errno
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.segments import NoteSegment

from mapdoctor.errors import InputError
from mapdoctor.formats.elf import GoBinary

#: User-space addresses end here on x86-64 and arm64 (48-bit); anything above is a torn pointer.
ADDRESS_LIMIT = 1 << 48
#: Reads larger than this are split (a slice header with a wild length must not allocate GiBs).
MAX_READ = 64 << 20


class ProcessGone(Exception):
    """The process exited while being read."""


class Memory(Protocol):
    """Read-only access to a target's address space."""

    #: Where the memory comes from: ``"pid 1234"`` or a core file's path.
    label: str

    def read(self, addr: int, size: int) -> bytes | None: ...

    def readable(self, addr: int, size: int = 1) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Region:
    start: int
    end: int
    path: str
    offset: int


class _Ranges:
    """Sorted, non-overlapping address ranges with a fast membership test."""

    def __init__(self, regions: list[Region]) -> None:
        self.regions = sorted(regions, key=lambda r: r.start)
        self.starts = [r.start for r in self.regions]

    def find(self, addr: int) -> Region | None:
        i = bisect.bisect_right(self.starts, addr) - 1
        if i >= 0 and addr < self.regions[i].end:
            return self.regions[i]
        return None

    def contains(self, addr: int, size: int) -> bool:
        r = self.find(addr)
        return r is not None and addr + size <= r.end


def _parse_maps(text: str) -> list[Region]:
    out: list[Region] = []
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 5:
            continue
        lo, _, hi = parts[0].partition("-")
        if not parts[1].startswith("r"):
            continue
        path = parts[5].strip() if len(parts) > 5 else ""
        if path == "[vvar]" or path == "[vsyscall]":
            continue  # not readable through /proc/PID/mem
        out.append(Region(int(lo, 16), int(hi, 16), path, int(parts[2], 16)))
    return out


def _permission_hint(pid: int) -> str:
    return (f"permission denied reading /proc/{pid}/mem: run as the process's user (or root) "
            "with ptrace access (kernel.yama.ptrace_scope=0, or CAP_SYS_PTRACE)")


class ProcessMemory:
    """A running process, read through ``/proc/PID/mem`` without stopping it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.label = f"pid {pid}"
        base = Path(f"/proc/{pid}")
        if not base.is_dir():
            raise InputError(self.label, "process", "no such process")
        try:
            self._fd = os.open(base / "mem", os.O_RDONLY)
        except PermissionError:
            raise InputError(self.label, "process", _permission_hint(pid)) from None
        except FileNotFoundError:
            raise InputError(self.label, "process", "the process exited") from None
        except OSError as exc:
            raise InputError(self.label, "process", exc.strerror or str(exc)) from None
        self.bytes_read = 0
        self.reads = 0
        self.refresh_maps()

    def refresh_maps(self) -> None:
        try:
            text = Path(f"/proc/{self.pid}/maps").read_text()
        except PermissionError:
            raise InputError(self.label, "process", _permission_hint(self.pid)) from None
        except OSError:
            raise InputError(self.label, "process", "the process exited") from None
        if not text:
            raise InputError(self.label, "process", "the process exited (no memory mappings)")
        self.ranges = _Ranges(_parse_maps(text))

    def exe(self) -> Path:
        try:
            return Path(os.readlink(f"/proc/{self.pid}/exe"))
        except PermissionError:
            raise InputError(self.label, "process", _permission_hint(self.pid)) from None
        except OSError:
            raise InputError(self.label, "process", "the process exited") from None

    def exe_path(self) -> Path:
        """A path that opens the executable even if it was replaced or deleted on disk."""
        return Path(f"/proc/{self.pid}/exe")

    def load_bias(self, binary: GoBinary) -> int:
        """How far a position-independent executable was moved from its link-time addresses."""
        if not binary.pie:
            return 0
        exe = str(self.exe())
        starts = [r.start for r in self.ranges.regions if r.path == exe and r.offset == 0]
        return (min(starts) - (binary.first_vaddr() & ~0xFFF)) if starts else 0

    def readable(self, addr: int, size: int = 1) -> bool:
        return self.ranges.contains(addr, size)

    def read(self, addr: int, size: int) -> bytes | None:
        if size <= 0 or size > MAX_READ or addr <= 0 or addr + size > ADDRESS_LIMIT:
            return None
        # No lookup in the mappings here (it would cost as much as the read): the kernel answers
        # EIO for an address that is not mapped, and that is the authority anyway.
        try:
            data = os.pread(self._fd, size, addr)
        except OSError as exc:
            if exc.errno == errno.ESRCH or not os.path.exists(f"/proc/{self.pid}"):
                raise ProcessGone(self.label) from None
            return None  # EIO: unmapped since the maps were read
        self.reads += 1
        self.bytes_read += len(data)
        if len(data) != size:
            if len(data) == 0 and not os.path.exists(f"/proc/{self.pid}"):
                raise ProcessGone(self.label)
            return None
        return data

    def alive(self) -> bool:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return False
        return stat.rpartition(")")[2].split()[:1] != ["Z"]

    def close(self) -> None:
        os.close(self._fd)


@dataclass(frozen=True)
class _CoreSegment:
    vaddr: int
    memsz: int
    offset: int
    filesz: int


class CoreMemory:
    """An ELF core file, with the executable filling in what the core omits."""

    def __init__(self, core: Path, binary: GoBinary) -> None:
        self.label = str(core)
        self.bytes_read = 0
        self.reads = 0
        try:
            self._fh = core.open("rb")
        except OSError as exc:
            raise InputError(self.label, "core", exc.strerror or str(exc)) from None
        try:
            if self._fh.read(4) != b"\x7fELF":
                raise InputError(self.label, "core", "not an ELF core file")
            self._fh.seek(0)
            try:
                elf = ELFFile(self._fh)
            except ELFError as exc:
                raise InputError(self.label, "core", f"unreadable ELF ({exc})") from None
            if elf["e_type"] != "ET_CORE":
                raise InputError(self.label, "core", "an ELF file but not a core dump (e_type is not ET_CORE)")
            if elf.elfclass != 64 or not elf.little_endian:
                raise InputError(self.label, "core", "only 64-bit little-endian cores are supported")
            segs: list[_CoreSegment] = []
            self.files: list[Region] = []
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_LOAD" and seg["p_memsz"] > 0:
                    segs.append(_CoreSegment(seg["p_vaddr"], seg["p_memsz"], seg["p_offset"], seg["p_filesz"]))
                elif isinstance(seg, NoteSegment):
                    for note in seg.iter_notes():
                        if note["n_type"] == "NT_FILE":
                            self.files.extend(self._nt_file(note))
            self.pid = self._pid(elf)
            self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ)
        except BaseException:
            self._fh.close()
            raise
        if not segs:
            raise InputError(self.label, "core", "no memory segments in the core")
        self._segs = sorted(segs, key=lambda s: s.vaddr)
        self._starts = [s.vaddr for s in self._segs]
        self.binary = binary
        self.bias = self._bias(binary)
        self.ranges = _Ranges([Region(s.vaddr, s.vaddr + s.memsz, "", 0) for s in self._segs])

    @staticmethod
    def _nt_file(note: object) -> list[Region]:
        desc = getattr(note, "get", lambda _k: None)("n_desc")
        out: list[Region] = []
        if isinstance(desc, dict):
            names = desc.get("filename", [])
            for entry, name in zip(desc.get("Elf_Nt_File_Entry", []), names, strict=False):
                raw = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
                out.append(Region(entry["vm_start"], entry["vm_end"], raw,
                                  entry["page_offset"] * desc.get("page_size", 4096)))
        return out

    @staticmethod
    def _pid(elf: ELFFile) -> int:
        for seg in elf.iter_segments():
            if not isinstance(seg, NoteSegment):
                continue
            for note in seg.iter_notes():
                if note["n_type"] == "NT_PRPSINFO":
                    pid: int = note["n_desc"]["pr_pid"]
                    return pid
        return 0

    def _bias(self, binary: GoBinary) -> int:
        if not binary.pie:
            return 0
        name = binary.path.name
        starts = [f.start for f in self.files if Path(f.path).name == name and f.offset == 0]
        return (min(starts) - (binary.first_vaddr() & ~0xFFF)) if starts else 0

    def load_bias(self, binary: GoBinary) -> int:
        return self.bias

    def readable(self, addr: int, size: int = 1) -> bool:
        return self.ranges.contains(addr, size) or self.binary.read_static(addr - self.bias, size) is not None

    def read(self, addr: int, size: int) -> bytes | None:
        if size <= 0 or size > MAX_READ or addr <= 0:
            return None
        self.reads += 1
        i = bisect.bisect_right(self._starts, addr) - 1
        if i >= 0:
            seg = self._segs[i]
            rel = addr - seg.vaddr
            if rel + size <= seg.filesz:
                self.bytes_read += size
                return self._map[seg.offset + rel: seg.offset + rel + size]
        # Not in the core: read-only file-backed data (the executable's text, rodata, itabs)
        # that the dumper left out because the file has it.
        data = self.binary.read_static(addr - self.bias, size)
        if data is not None:
            self.bytes_read += size
        return data

    def close(self) -> None:
        self._map.close()
        self._fh.close()


def u64(data: bytes, off: int = 0) -> int:
    value: int = struct.unpack_from("<Q", data, off)[0]
    return value
