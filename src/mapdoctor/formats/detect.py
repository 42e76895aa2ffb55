"""Recognise each input by its content (never its name) and decode it.

A directory stands for every recognised file in it, so an evidence folder saved by
``mapdoctor diagnose --out`` (or assembled by hand) can be analysed in one go.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import gunzip, is_gzip, read_file
from mapdoctor.model.gc import GCTrace
from mapdoctor.model.goroutines import GoroutineDump
from mapdoctor.model.profile import Profile
from mapdoctor.model.trace import ExecutionTrace

#: How many files of a directory we look at, and how deep.
MAX_DIR_FILES = 2000
MAX_DIR_DEPTH = 3
#: How many leading bytes decide whether a file is text.
SNIFF_BYTES = 64 << 10


class InputKind(StrEnum):
    CPU = "cpu"
    HEAP = "heap"
    ALLOCS = "allocs"
    MUTEX = "mutex"
    BLOCK = "block"
    CONTENTION = "contention"  # mutex or block, when the content cannot tell which
    GOROUTINE_PROFILE = "goroutine"
    THREADCREATE = "threadcreate"
    PPROF_OTHER = "pprof"
    GOROUTINE_DUMP = "goroutine_dump"
    CRASH = "crash"
    TRACE = "trace"
    GCTRACE = "gctrace"


@dataclass(slots=True)
class LoadedInput:
    path: str
    kind: InputKind
    profile: Profile | None = None
    dump: GoroutineDump | None = None
    trace: ExecutionTrace | None = None
    gctrace: GCTrace | None = None


@dataclass(slots=True)
class LoadResult:
    inputs: list[LoadedInput] = field(default_factory=list)
    skipped: list[InputError] = field(default_factory=list)
    #: Caveats recorded when the evidence was collected (a folder's manifest.json).
    notes: list[str] = field(default_factory=list)


#: An evidence folder saved by `mapdoctor diagnose --out` describes itself in this file.
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20


def _manifest_notes(folder: Path) -> list[str]:
    """The collection's own notes (what failed and why), so an offline verdict names them too."""
    path = folder / MANIFEST
    if not path.is_file():
        return []
    try:
        doc = json.loads(read_file(path, MAX_MANIFEST_BYTES))
    except (InputError, ValueError):
        return [f"{path}: unreadable manifest, ignored"]
    if not isinstance(doc, dict):
        return []
    notes = [str(n) for n in doc.get("notes", []) if isinstance(n, str)]
    for part in doc.get("parts", []):
        if isinstance(part, dict) and part.get("error"):
            notes.append(f"collection: {part.get('what') or part.get('name')}: {part['error']}")
    return list(dict.fromkeys(notes))


_PPROF_KINDS = {k.value for k in (
    InputKind.CPU, InputKind.HEAP, InputKind.ALLOCS, InputKind.MUTEX, InputKind.BLOCK,
    InputKind.CONTENTION, InputKind.GOROUTINE_PROFILE, InputKind.THREADCREATE,
)}


def load_file(path: Path) -> LoadedInput:
    """Decode one file, choosing the decoder from its content."""
    name = str(path)
    raw = read_file(path)
    if not raw:
        raise InputError(name, "input", "empty file")
    data = gunzip(raw, name) if is_gzip(raw) else raw
    # Decoders are imported when their kind is seen, so each costs only when used.
    if data[:5] == b"go 1." and b" trace" in data[:16]:
        # Every execution trace starts "go 1.NN trace"; the reader rejects versions it lacks.
        from mapdoctor.formats import trace

        return LoadedInput(name, InputKind.TRACE, trace=trace.parse_trace(data, name))
    is_text = _is_text(data)
    if not is_text:
        from mapdoctor.formats import pprof

        # Decode straight away (a large profile is parsed once, not sniffed first); only when
        # that fails does the sniff decide between "a broken profile" and "not a profile".
        try:
            prof = pprof.decode_profile(data, name)
        except InputError:
            if pprof.looks_like_pprof(data):
                raise
        else:
            kind_name = pprof.profile_kind(prof)
            kind = InputKind(kind_name) if kind_name in _PPROF_KINDS else InputKind.PPROF_OTHER
            return LoadedInput(name, kind, profile=prof)
    if is_text:
        from mapdoctor.formats import gctrace, goroutines

        text = data.decode("utf-8", errors="replace")
        if goroutines.looks_like_goroutines(text):
            dump = goroutines.parse_goroutines(text, name)
            kind = InputKind.CRASH if (dump.fatal_error or dump.panic_message) else InputKind.GOROUTINE_DUMP
            return LoadedInput(name, kind, dump=dump)
        if gctrace.looks_like_gctrace(text):
            return LoadedInput(name, InputKind.GCTRACE, gctrace=gctrace.parse_gctrace(text, name))
    raise InputError(
        name,
        "input",
        "not a recognised Go profile, execution trace, goroutine dump, crash log or gctrace log",
    )


def _is_text(data: bytes) -> bool:
    head = data[:SNIFF_BYTES]
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still text.
        return exc.start >= len(head) - 4
    return True


def _walk(directory: Path) -> Iterable[Path]:
    count = 0
    stack: list[tuple[Path, int]] = [(directory, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            raise InputError(str(folder), "directory", exc.strerror or str(exc)) from None
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir() and not entry.is_symlink():
                if depth + 1 < MAX_DIR_DEPTH:
                    stack.append((entry, depth + 1))
                continue
            if entry.is_file():
                count += 1
                if count > MAX_DIR_FILES:
                    raise InputError(str(directory), "directory", f"more than {MAX_DIR_FILES} files")
                yield entry


#: Files an evidence folder carries that are not runtime data.
_NOT_EVIDENCE = {"manifest.json", "README.md", "README.txt", "go.mod", "MANIFEST.json"}


def load_inputs(paths: Iterable[Path]) -> LoadResult:
    """Load every path (files and directories); bad ones are collected, not raised.

    Raises InputError only for a directory that holds nothing recognisable.
    """
    result = LoadResult()
    for path in paths:
        if path.is_dir():
            result.notes.extend(_manifest_notes(path))
            found = 0
            for entry in _walk(path):
                if entry.name in _NOT_EVIDENCE or entry.suffix in (".go", ".json", ".md"):
                    continue
                try:
                    result.inputs.append(load_file(entry))
                    found += 1
                except InputError as err:
                    result.skipped.append(err)
            if not found:
                raise InputError(str(path), "directory", "no recognised Go profile, trace, dump or log in it")
            continue
        if not path.exists():
            result.skipped.append(InputError(str(path), "file", "no such file or directory"))
            continue
        try:
            result.inputs.append(load_file(path))
        except InputError as err:
            result.skipped.append(err)
    return result
