"""Recognise each input by its content (never its name) and decode it.

A directory stands for every recognised file in it, so an evidence folder saved by
``mapdoctor diagnose --out`` (or assembled by hand) can be analysed in one go.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import file_kind, gunzip, is_gzip, map_file, os_reason, read_file
from mapdoctor.model.gc import GCTrace
from mapdoctor.model.goroutines import GoroutineDump
from mapdoctor.model.profile import Profile
from mapdoctor.model.trace import ExecutionTrace

#: How many files of one folder argument are read, how deep it is walked, and how many
#: names are looked at in all (a folder of a million files must not take minutes to list).
MAX_DIR_FILES = 2000
MAX_DIR_DEPTH = 100
MAX_DIR_ENTRIES = 100_000
#: Skipped files of one folder named one by one; the others are counted by reason.
MAX_NAMED_SKIPS = 50
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


#: How every execution trace starts ("go 1.NN trace").
_TRACE_HEAD = b"go 1."

_PPROF_KINDS = {k.value for k in (
    InputKind.CPU, InputKind.HEAP, InputKind.ALLOCS, InputKind.MUTEX, InputKind.BLOCK,
    InputKind.CONTENTION, InputKind.GOROUTINE_PROFILE, InputKind.THREADCREATE,
)}


def load_file(path: Path) -> LoadedInput:
    """Decode one file, choosing the decoder from its content."""
    name = str(path)
    mapped = map_file(path, _TRACE_HEAD)
    if mapped is not None:
        with mapped:
            if b" trace" in mapped[:16]:
                from mapdoctor.formats import trace

                # Parsed from the map, whose pages are given back generation by generation:
                # resident input stays about one generation, not the whole file.
                return LoadedInput(name, InputKind.TRACE, trace=trace.parse_trace(mapped, name))
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
            if kind_name == "contention":
                kind_name = _contention_by_name(path)
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


def _contention_by_name(path: Path) -> Literal["mutex", "block", "contention"]:
    """Mutex and block profiles carry the same metadata; with no sample to tell them apart (an
    empty profile), the name net/http/pprof and ``mapdoctor collect`` give the file decides."""
    stem = path.name.lower()
    if stem.startswith("mutex"):
        return "mutex"
    if stem.startswith("block"):
        return "block"
    return "contention"


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


#: Files an evidence folder carries that are not runtime data.
_NOT_EVIDENCE = {"manifest.json", "README.md", "README.txt", "go.mod", "MANIFEST.json"}


@dataclass(slots=True)
class _Walk:
    """What walking one folder found: the files to read, and what it had to leave out."""

    files: list[Path] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    too_deep: int = 0  # folders below MAX_DIR_DEPTH, not entered
    over_files: int = 0  # files beyond MAX_DIR_FILES, not read (see _pick)
    over_entries: bool = False  # stopped after MAX_DIR_ENTRIES names

    def left_out(self, directory: Path) -> list[InputError]:
        """What the limits left out, as skipped inputs (so the result is marked partial)."""
        out = []
        name = str(directory)
        if self.over_files:
            more = "at least " if self.over_entries else ""
            out.append(InputError(name, "directory", f"more than {MAX_DIR_FILES} files: read the first "
                                  f"{MAX_DIR_FILES}, left out {more}{self.over_files} (pass subfolders to read them)"))
        elif self.over_entries:
            out.append(InputError(name, "directory", f"more than {MAX_DIR_ENTRIES} names: stopped listing there, "
                                  "the rest was left out (pass subfolders to read them)"))
        if self.too_deep:
            out.append(InputError(name, "directory", f"left out {self.too_deep} folder(s) more than "
                                  f"{MAX_DIR_DEPTH} levels deep"))
        return out


def _walk(directory: Path) -> _Walk:
    """The candidate files under ``directory``, shallowest first, each folder in name order.

    Never raises: an unreadable subfolder, a FIFO or a device is recorded as a problem and
    the walk goes on; symbolic links to folders are not followed (no cycles)."""
    found = _Walk()
    seen = 0
    queue: deque[tuple[Path, int]] = deque([(directory, 0)])
    while queue:
        folder, depth = queue.popleft()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            found.problems.append(InputError(str(folder), "directory", os_reason(exc)))
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_DIR_ENTRIES:
                found.over_entries = True
                return found
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 > MAX_DIR_DEPTH:
                        found.too_deep += 1
                    else:
                        queue.append((path, depth + 1))
                    continue
                st = entry.stat(follow_symlinks=True)
            except OSError as exc:
                found.problems.append(InputError(str(path), "file", os_reason(exc)))
                continue
            if stat.S_ISDIR(st.st_mode):
                found.problems.append(InputError(str(path), "directory", "symbolic link to a folder, not followed"))
                continue
            if path.name in _NOT_EVIDENCE or path.suffix in (".go", ".json", ".md"):
                continue
            kind = file_kind(st.st_mode)
            if kind is not None:
                found.problems.append(InputError(str(path), "file", f"{kind}, not a regular file; not read"))
                continue
            found.files.append(path)
    return found


#: Names of the kind of files Go tools and ``mapdoctor diagnose --out`` write: when a folder
#: holds more files than are read, these go first (the content still decides what they are).
_LIKELY = re.compile(r"(?i)(\.pb(\.gz)?|\.pprof|\.prof|\.trace|trace\.out|\.log|goroutine.*\.txt)$")


def _pick(walk: _Walk) -> None:
    """Keep at most MAX_DIR_FILES files, likely evidence first, the others in walk order."""
    if len(walk.files) <= MAX_DIR_FILES:
        return
    ranked = sorted(range(len(walk.files)), key=lambda i: (_LIKELY.search(walk.files[i].name) is None, i))
    keep = sorted(ranked[:MAX_DIR_FILES])
    walk.over_files = len(walk.files) - MAX_DIR_FILES
    walk.files = [walk.files[i] for i in keep]


def load_inputs(paths: Iterable[Path]) -> LoadResult:
    """Load every path (files and directories); bad ones are collected and named, never raised.

    A good input is always analysed whatever its neighbours are: an empty or unreadable
    folder, junk files, FIFOs and devices are skipped with their reason, and what a folder
    limit left out is said in the notes.
    """
    result = LoadResult()
    for path in paths:
        if path.is_dir():
            _load_folder(path, result)
            continue
        try:
            result.inputs.append(load_file(path))
        except InputError as err:
            result.skipped.append(err)
    return result


def _load_folder(folder: Path, result: LoadResult) -> None:
    result.notes.extend(_manifest_notes(folder))
    walk = _walk(folder)
    _pick(walk)
    bad: list[InputError] = list(walk.problems)
    found = 0
    for entry in walk.files:
        try:
            result.inputs.append(load_file(entry))
            found += 1
        except InputError as err:
            bad.append(err)
    bad.sort(key=lambda e: e.path)
    left_out = walk.left_out(folder)
    if not found:
        # Nothing usable: one line for the folder, naming the first few reasons.
        why = "no Go profile, trace, dump or log in it"
        if bad:
            named = ", ".join(f"{_relative(e.path, folder)} ({_short_reason(e)})" for e in bad[:3])
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            why += f"; skipped {len(bad)}: {named}{more}"
        why += "".join(f"; {e.why}" for e in left_out)
        result.skipped.append(InputError(str(folder), "directory", why))
        return
    result.skipped.extend(bad[:MAX_NAMED_SKIPS])
    if len(bad) > MAX_NAMED_SKIPS:
        rest = bad[MAX_NAMED_SKIPS:]
        reasons = Counter(_short_reason(e) for e in rest).most_common(3)
        why = "; ".join(f"{n} {r}" for r, n in reasons)
        result.skipped.append(InputError(str(folder), "directory",
                                         f"{len(rest)} more inputs skipped, not named one by one ({why})"))
    result.skipped.extend(left_out)


def _relative(path: str, folder: Path) -> str:
    try:
        return str(Path(path).relative_to(folder))
    except ValueError:
        return path


def _short_reason(err: InputError) -> str:
    """The kind of problem without the specifics (``not recognised``, ``empty file``...)."""
    why = err.why
    if why.startswith("not a recognised"):
        return "not recognised"
    return f"{err.what}: {why.split(';')[0].strip()}"
