"""Goroutine dumps and Go crash output, parsed into :class:`~mapdoctor.model.goroutines.GoroutineDump`.

Both are the runtime's traceback text (``src/runtime/traceback.go``): a
``/debug/pprof/goroutine?debug=2`` dump is ``runtime.Stack(buf, true)``, and a crash
(``fatal error: concurrent map writes``, ``panic: ...``) prints the same goroutine blocks
after its message. One goroutine block looks like::

    goroutine 18 gp=0xc000102000 m=2 mp=0xc000080008 [chan receive, 3 minutes, locked to thread] {k: v}:
    main.worker(0xc00001c0c0, {0x4a5f60?, 0x0?})
    \t/src/app/main.go:23 +0x65 fp=0xc000045fb8 sp=0xc000045f90 pc=0x4a1b25
    main.fill(...)
    \t/src/app/main.go:40
    ...12 frames elided...
    created by main.main in goroutine 1
    \t/src/app/main.go:28 +0x125

``gp=/m=/mp=`` and ``fp=/sp=/pc=`` appear with GOTRACEBACK=system; ``(...)`` arguments
without ``+0x`` mark an inlined call; pprof labels ``{...}`` are printed under
GODEBUG=tracebacklabels=1 (the default for Go 1.27 modules); ``in goroutine N`` since
Go 1.21. Since Go 1.26 a ``fatal error`` prints only the faulting goroutine unless
GOTRACEBACK=all.

Anything the runtime did not print (application log lines before, inside or after the
dump, register dumps, ``exit status 2``) is skipped. Parsing stops at a second crash report
in the same text, since goroutine ids would then mean two different programs.
"""

from __future__ import annotations

import re

from mapdoctor.errors import InputError
from mapdoctor.formats.textlines import SNIFF_CHARS, cap_text, iter_line_chunks, strip_bom
from mapdoctor.model.goroutines import Goroutine, GoroutineDump
from mapdoctor.model.stack import Frame, Stack

WHAT = "goroutine dump"
_FATAL = "fatal error: "

#: Go prints at most 100 frames per goroutine (50 innermost + 50 outermost); more than
#: this many means merged or corrupted text, and the rest is dropped to bound memory.
MAX_FRAMES_PER_GOROUTINE = 1000
#: Goroutines kept from one input; past this the rest is not read (bounded memory).
MAX_GOROUTINES = 1_000_000
MAX_NOTES = 20
_MAX_CACHED_FRAMES = 1 << 18
_MAX_CACHED_HEADERS = 1 << 12

#: A header after "goroutine <id>"; headers repeat across goroutines and are parsed once.
_HEADER_TAIL = re.compile(r"(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\](?: \{(.*)\})?:[ \t]*", re.ASCII)
_HEADER_SNIFF = re.compile(
    r"^goroutine [0-9]{1,19}(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[[^\]\n]*\](?: \{[^\n]*\})?:[ \t\r]*\n"
    r"(?:[^\s(][^\n]*\(|\t)",
    re.ASCII | re.MULTILINE,
)
_CREATED = re.compile(r"created by (\S.*?)(?: in goroutine ([0-9]{1,19}))?", re.ASCII)
_ELIDED = re.compile(r"\.\.\.([0-9]{1,9}) frames elided\.\.\.", re.ASCII)
_SIGNAL = re.compile(r"SIG[A-Z0-9]+: ", re.ASCII)
_MINUTES = re.compile(r"([0-9]{1,9}) minutes?", re.ASCII)
_LABEL_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^",:{}\s]*')
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.ASCII | re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"'}

#: Messages of the runtime's concurrent map access checks (``fatal(...)`` in map code).
CONCURRENT_MAP_ERRORS = (
    "concurrent map writes",
    "concurrent map read and map write",
    "concurrent map iteration and map write",
    "concurrent map clone and map write",
)


def looks_like_goroutines(text: str) -> bool:
    """Cheap sniff: a ``goroutine N [status]:`` header followed by a frame, near the start
    or near the end (a crash ends a long log of the program's own output)."""
    if _HEADER_SNIFF.search(strip_bom(text[:SNIFF_CHARS])) is not None:
        return True
    if len(text) <= SNIFF_CHARS:
        return False
    tail = text[-SNIFF_CHARS:]
    return _HEADER_SNIFF.search(tail, tail.find("\n") + 1) is not None


def parse_goroutines(text: str, path: str) -> GoroutineDump:
    """Parse a goroutine dump or crash output; raise :class:`InputError` if there is none in ``text``."""
    text = strip_bom(text)
    capped, cut = cap_text(text)
    parser = _Parser()
    parser.feed(capped)
    dump = parser.finish(ended_with_newline=capped.endswith("\n"))
    if cut:
        dump.truncated = True
        _note(dump.notes, f"input longer than {len(capped)} characters; the rest was not read")
    if not dump.goroutines and dump.fatal_error is None and dump.panic_message is None:
        raise InputError(path, WHAT, _why_not_a_dump(text))
    return dump


def concurrent_map_writers(dump: GoroutineDump) -> list[tuple[Goroutine, Frame]]:
    """For a ``concurrent map ...`` fatal error: the goroutines that were touching the map.

    Each comes with its innermost user-code frame (where in the program the map was
    accessed). The faulting goroutine comes first; the others are goroutines that were
    running or runnable and either inside map code or executing user code when the
    program stopped. Since Go 1.26 only the faulting goroutine is printed unless the
    program ran with GOTRACEBACK=all, so the list may have a single entry.
    Returns an empty list for any other kind of dump.
    """
    if dump.fatal_error not in CONCURRENT_MAP_ERRORS:
        return []
    ordered = sorted(dump.goroutines, key=lambda g: g.id != dump.faulting_goroutine)
    out: list[tuple[Goroutine, Frame]] = []
    for g in ordered:
        frame = _access_frame(g.stack)
        if frame is None:
            continue
        if g.id == dump.faulting_goroutine or (
            g.state in _ACTIVE_STATES
            and (any(_is_map_code(f.function) for f in g.stack) or _is_user_function(g.stack[0].function))
        ):
            out.append((g, frame))
    return out


# --- frame classification (only what the writers heuristic needs) ---------------------

_ACTIVE_STATES = frozenset({"running", "runnable", "preempted", "syscall"})
_MAP_CODE_PREFIXES = (
    "runtime.map",
    "runtime.(*hmap)",
    "runtime.(*bmap)",
    "runtime.hashGrow",
    "runtime.growWork",
    "runtime.evacuate",
    "runtime.makeBucketArray",
    "internal/runtime/maps.",
)
#: First import-path elements of the standard library (no dot, so they cannot be modules).
#: "panic" is how tracebacks print runtime.gopanic.
_STD_ROOTS = frozenset(
    {
        "archive", "bufio", "builtin", "bytes", "cmp", "compress", "container", "context", "crypto",
        "database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "go", "hash",
        "html", "image", "index", "internal", "io", "iter", "log", "maps", "math", "mime", "net", "os",
        "path", "plugin", "reflect", "regexp", "runtime", "slices", "sort", "strconv", "strings",
        "structs", "sync", "syscall", "testing", "text", "time", "unicode", "unique", "unsafe",
        "vendor", "weak", "panic",
    }
)


def _is_map_code(function: str) -> bool:
    return function.startswith(_MAP_CODE_PREFIXES)


def _package_root(function: str) -> str:
    """First element of the function's import path: ``net`` for ``net/http.Get``, ``main``."""
    sep = "/" if "/" in function else "."
    return function.split(sep, 1)[0]


def _is_user_function(function: str) -> bool:
    root = _package_root(function)
    return "." in root or root not in _STD_ROOTS


def _access_frame(stack: Stack) -> Frame | None:
    """The innermost user-code frame; failing that (a map used inside the standard library),
    the innermost frame outside the runtime."""
    for f in stack:
        if _is_user_function(f.function):
            return f
    for f in stack:
        if not f.function.startswith(("runtime.", "internal/", "panic")):
            return f
    return None


# --- parsing --------------------------------------------------------------------------


def _note(notes: list[str], text: str) -> None:
    if len(notes) < MAX_NOTES:
        notes.append(text)
    elif len(notes) == MAX_NOTES:
        notes.append("(further notes omitted)")


def _why_not_a_dump(text: str) -> str:
    if not text.strip():
        return "empty input"
    head = text[:SNIFF_CHARS]
    if "goroutine profile: total " in head:
        return "this is a debug=1 goroutine profile (stacks grouped by count); fetch goroutine?debug=2"
    return "no 'goroutine N [status]:' header found"


def _parse_file_line(body: str) -> tuple[str, int, bool] | None:
    """``/path/file.go:23 +0x65 fp=...`` -> (file, line, has_offset)."""
    cut = body.find(" fp=")
    if cut >= 0:
        body = body[:cut]
    cut = body.rfind(" +0x")
    has_offset = cut >= 0
    if has_offset:
        body = body[:cut]
    file, sep, num = body.rpartition(":")
    if not sep or not file or not (0 < len(num) <= 9 and num.isascii() and num.isdigit()):
        return None
    return file, int(num), has_offset


def _unquote(token: str) -> str:
    if len(token) < 2 or token[0] != '"':
        return token

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc[0] in "xuU" and len(esc) > 1:
            return chr(min(int(esc[1:], 16), 0x10FFFF))
        return _SIMPLE_ESCAPES.get(esc, esc)

    return _ESCAPE.sub(repl, token[1:-1])


def _parse_labels(raw: str) -> tuple[tuple[str, str], ...] | None:
    """``handler: fill, tenant: "a b"`` -> pairs; None if it does not have that shape."""
    pairs: list[tuple[str, str]] = []
    pos = 0
    n = len(raw)
    while pos < n:
        key = _LABEL_TOKEN.match(raw, pos)
        if key is None or raw[key.end() : key.end() + 2] != ": ":
            return None
        value = _LABEL_TOKEN.match(raw, key.end() + 2)
        if value is None:
            return None
        pairs.append((_unquote(key.group()), _unquote(value.group())))
        pos = value.end()
        if pos < n:
            if raw[pos : pos + 2] != ", ":
                return None
            pos += 2
    return tuple(pairs)


#: (state, wait minutes, locked to thread, labels) of a goroutine header.
_Header = tuple[str, int, bool, tuple[tuple[str, str], ...]]


class _Open:
    """A goroutine block being read."""

    __slots__ = (
        "created_by",
        "created_in",
        "dropped",
        "elided",
        "frames",
        "id",
        "in_ancestors",
        "labels",
        "line_no",
        "locked",
        "minutes",
        "pending",
        "state",
        "unavailable",
        "want_created_file",
    )

    def __init__(self, gid: int, state: str, minutes: int, locked: bool, line_no: int) -> None:
        self.id = gid
        self.state = state
        self.minutes = minutes
        self.locked = locked
        self.labels: tuple[tuple[str, str], ...] = ()
        self.line_no = line_no
        self.frames: list[Frame] = []
        self.pending: tuple[str, bool] | None = None  # (function, args were "...")
        self.created_by: Frame | None = None
        self.created_in: int | None = None
        self.want_created_file = False
        self.elided = 0
        self.dropped = 0  # frames beyond MAX_FRAMES_PER_GOROUTINE
        self.in_ancestors = False
        self.unavailable = False


class _Parser:
    def __init__(self) -> None:
        self.dump = GoroutineDump(goroutines=[])
        self.cur: _Open | None = None
        self.started = False  # a goroutine header has been seen
        self.in_panic = False  # reading continuation lines of a "panic: " message
        self.panic_lines: list[str] = []
        self.stopped = False
        self.junk = 0
        self.capped = 0
        self.seen_ids: dict[int, int] = {}  # goroutine id -> index in dump.goroutines
        self.duplicate_ids = 0
        self.last_line_goroutine = False  # the last line read was part of a goroutine block
        # Frames and stacks repeat massively across goroutines; sharing them keeps a
        # 100k-goroutine dump's model small.
        self.frame_cache: dict[tuple[str, str, int, bool], Frame] = {}
        self.raw_frame_cache: dict[tuple[tuple[str, bool], str], Frame] = {}
        self.stack_cache: dict[tuple[int, ...], Stack] = {}
        self.header_cache: dict[str, _Header] = {}
        self.created_cache: dict[str, tuple[Frame, int | None]] = {}

    # -- driving --

    def feed(self, text: str) -> None:
        # Hot loop: a frame is two lines, and a large dump has millions of them. The
        # common shapes (function line, file line) are handled inline; everything else
        # goes through _line.
        line_no = 0
        frame_cache = self.raw_frame_cache
        for lines in iter_line_chunks(text):
            for line in lines:
                line_no += 1
                cur = self.cur
                if not line:
                    if cur is not None:
                        self._close()
                        self.last_line_goroutine = False
                        if self.stopped:
                            return
                        continue
                    if self.started:
                        continue
                elif cur is not None and not cur.in_ancestors:
                    pending = cur.pending
                    if line[0] == "\t":
                        if pending is not None and len(cur.frames) < MAX_FRAMES_PER_GOROUTINE:
                            frame = frame_cache.get((pending, line))
                            if frame is None:
                                frame = self._new_frame(pending, line)
                            if frame is not None:
                                cur.frames.append(frame)
                                cur.pending = None
                                self.last_line_goroutine = True
                                continue
                    elif (
                        pending is None
                        and line[-1] == ")"
                        and not line.startswith(("goroutine ", "created by ", " "))
                    ):
                        paren = line.rfind("(")
                        if paren > 0:
                            cur.pending = (line[:paren], line[paren:] == "(...)")
                            cur.want_created_file = False
                            self.last_line_goroutine = True
                            continue
                self._line(line_no, line)
                if self.stopped:
                    return

    def _new_frame(self, pending: tuple[str, bool], line: str) -> Frame | None:
        """The frame of a function line and its file line, remembered by their text."""
        frame = self.raw_frame_cache.get((pending, line))
        if frame is not None:
            return frame
        parsed = _parse_file_line(line[1:])
        if parsed is None:
            return None
        file, lineno, has_offset = parsed
        function, args_elided = pending
        frame = self._frame(function, file, lineno, args_elided and not has_offset)
        if len(self.raw_frame_cache) >= _MAX_CACHED_FRAMES:
            self.raw_frame_cache.clear()
        self.raw_frame_cache[pending, line] = frame
        return frame

    def finish(self, *, ended_with_newline: bool) -> GoroutineDump:
        dump = self.dump
        cur = self.cur
        if cur is not None:
            if cur.pending is not None or (
                not cur.frames and not cur.unavailable and cur.created_by is None and not cur.in_ancestors
            ):
                dump.truncated = True
                _note(dump.notes, f"goroutine {cur.id} (line {cur.line_no}) ends mid-stack: output truncated")
            self._close()
        if not ended_with_newline and self.last_line_goroutine and not dump.truncated:
            dump.truncated = True
            _note(dump.notes, "output ends without a final newline inside a goroutine block: truncated")
        if self.in_panic:
            self._end_panic()
        if dump.goroutines and (dump.fatal_error is not None or dump.panic_message is not None):
            dump.faulting_goroutine = dump.goroutines[0].id
        if (
            dump.fatal_error in CONCURRENT_MAP_ERRORS
            and len(dump.goroutines) == 1
            and not dump.truncated
        ):
            _note(
                dump.notes,
                "only the faulting goroutine was printed (Go 1.26+ default); "
                "run with GOTRACEBACK=all to see the other goroutine touching the map",
            )
        if not dump.goroutines and (dump.fatal_error is not None or dump.panic_message is not None):
            _note(dump.notes, "no goroutine tracebacks in the output (GOTRACEBACK=none?)")
        if self.capped:
            _note(
                dump.notes,
                f"{self.capped} goroutine(s) had more than {MAX_FRAMES_PER_GOROUTINE} frames; "
                "the rest were dropped",
            )
        if self.duplicate_ids:
            _note(
                dump.notes,
                f"{self.duplicate_ids} goroutine id(s) appear more than once (concatenated dumps?)",
            )
        if self.junk:
            _note(
                dump.notes,
                f"{self.junk} line(s) inside goroutine blocks were not traceback text and were skipped",
            )
        return dump

    # -- per line --

    def _line(self, line_no: int, line: str) -> None:
        if line.startswith("goroutine "):
            header = self._parse_header(line_no, line)
            if header is not None:
                self._open(line_no, *header)
                self.last_line_goroutine = True
                return
        cur = self.cur
        self.last_line_goroutine = cur is not None and bool(line)
        if cur is not None:
            self._in_goroutine(cur, line)
        elif not self.started:
            self._preamble(line)
        else:
            self._between(line_no, line)

    def _preamble(self, line: str) -> None:
        if self.in_panic:
            if line.startswith("\t"):
                self.panic_lines.append(line[1:])
                return
            self._end_panic()
        if line.startswith(_FATAL):
            if self.dump.fatal_error is None:
                self.dump.fatal_error = _fatal_message(line)
        elif line.startswith("panic: ") and self.dump.panic_message is None:
            self.in_panic = True
            self.panic_lines = [line[len("panic: ") :]]
        elif line.startswith("[signal ") or _SIGNAL.match(line):
            _note(self.dump.notes, line.strip()[:200])

    def _end_panic(self) -> None:
        self.in_panic = False
        self.dump.panic_message = "\n".join(self.panic_lines).rstrip()
        self.panic_lines = []

    def _between(self, line_no: int, line: str) -> None:
        if line.startswith(_FATAL) and _fatal_message(line) == self.dump.fatal_error:
            # Two threads can hit the same check at once (both racing map writers);
            # the second one's report continues the same crash.
            return
        if line.startswith((_FATAL, "panic: ")):
            self.stopped = True
            _note(self.dump.notes, f"a second crash report starts at line {line_no}; it was not read")

    def _parse_header(self, line_no: int, line: str) -> tuple[int, _Header] | None:
        """``goroutine 7 [chan receive, 2 minutes]:`` -> (7, header), or None if not a header."""
        space = line.find(" ", 10)
        digits = line[10:space]
        if not (0 < len(digits) <= 19 and digits.isascii() and digits.isdigit()):
            return None
        tail = line[space:]
        header = self.header_cache.get(tail)
        if header is None:
            m = _HEADER_TAIL.fullmatch(tail)
            if m is None:
                return None
            state, minutes, locked = _split_status(m.group(1))
            labels: tuple[tuple[str, str], ...] = ()
            raw_labels = m.group(2)
            if raw_labels:
                parsed = _parse_labels(raw_labels)
                if parsed is None:
                    _note(self.dump.notes, f"line {line_no}: labels not understood: {raw_labels[:80]!r}")
                else:
                    labels = parsed
            header = (state, minutes, locked, labels)
            if len(self.header_cache) < _MAX_CACHED_HEADERS:
                self.header_cache[tail] = header
        return int(digits), header

    def _open(self, line_no: int, gid: int, header: _Header) -> None:
        if self.in_panic:
            self._end_panic()
        if self.cur is not None:
            self._close()
        self.started = True
        state, minutes, locked, labels = header
        cur = _Open(gid, state, minutes, locked, line_no)
        cur.labels = labels
        self.cur = cur

    def _in_goroutine(self, cur: _Open, line: str) -> None:
        if not line:
            self._close()
            return
        if cur.in_ancestors:
            return  # tracebackancestors output: stacks of other goroutines, not this one's
        if line[0] == "\t":
            self._file_line(cur, line)
            return
        if cur.pending is not None:
            self.junk += 1  # a function line with no file line after it
            cur.pending = None
        cur.want_created_file = False
        if line.startswith("created by "):
            created = self.created_cache.get(line)
            if created is None:
                m = _CREATED.fullmatch(line)
                if m is None:
                    self.junk += 1
                    return
                created = (Frame(m.group(1)), int(m.group(2)) if m.group(2) else None)
                if len(self.created_cache) < _MAX_CACHED_HEADERS:
                    self.created_cache[line] = created
            cur.created_by, cur.created_in = created
            cur.want_created_file = True
            return
        if line.startswith("..."):
            m = _ELIDED.fullmatch(line)
            if m is not None:
                if cur.elided >= 0:
                    cur.elided += int(m.group(1))
            elif line == "...additional frames elided...":
                cur.elided = -1
            else:
                self.junk += 1
            return
        if line.startswith("[originating from goroutine "):
            cur.in_ancestors = True
            return
        if line[-1] == ")" and line[0] != " ":
            paren = line.rfind("(")
            if paren > 0:
                cur.pending = (line[:paren], line[paren:] == "(...)")
                return
        self.junk += 1

    def _file_line(self, cur: _Open, line: str) -> None:
        body = line[1:]
        if cur.want_created_file and cur.created_by is not None:
            cur.want_created_file = False
            frame = self._new_frame((cur.created_by.function, False), line)
            if frame is not None:
                cur.created_by = frame
            # "created by" ends a block; what follows (ancestor stacks with
            # tracebackancestors, "exit status 2", logs) is not this goroutine's.
            self._close()
            return
        pending = cur.pending
        if pending is None:
            if body.startswith("goroutine running on other thread"):
                cur.unavailable = True
            else:
                self.junk += 1
            return
        cur.pending = None
        frame = self._new_frame(pending, line)
        if frame is None:
            self.junk += 1
        elif len(cur.frames) >= MAX_FRAMES_PER_GOROUTINE:
            cur.dropped += 1
        else:
            cur.frames.append(frame)

    def _frame(self, function: str, file: str, line: int, inline: bool) -> Frame:
        key = (function, file, line, inline)
        frame = self.frame_cache.get(key)
        if frame is None:
            frame = self.frame_cache[key] = Frame(function, file, line, inline)
        return frame

    def _close(self) -> None:
        cur = self.cur
        if cur is None:
            return
        self.cur = None
        frames = cur.frames
        # Equal frames are the same object (see _frame), so identities make a cheap key.
        key = tuple(map(id, frames))
        stack = self.stack_cache.get(key)
        if stack is None:
            stack = self.stack_cache[key] = tuple(frames)
        elided = cur.elided
        if cur.dropped:
            self.capped += 1
            if elided >= 0:
                elided += cur.dropped
        g = Goroutine(
            id=cur.id,
            state=cur.state,
            wait_minutes=cur.minutes,
            stack=stack,
            created_by=cur.created_by,
            created_in=cur.created_in,
            locked_to_thread=cur.locked,
            elided_frames=elided,
            labels=cur.labels,
        )
        goroutines = self.dump.goroutines
        if len(goroutines) >= MAX_GOROUTINES:
            self.stopped = True
            self.dump.truncated = True
            _note(self.dump.notes, f"more than {MAX_GOROUTINES} goroutines; the rest were not read")
            return
        index = self.seen_ids.get(g.id)
        if index is None:
            self.seen_ids[g.id] = len(goroutines)
            goroutines.append(g)
        elif not goroutines[index].stack:
            # A crash prints a goroutine running on another thread without its stack
            # ("stack unavailable"); that thread may print the stack itself later.
            goroutines[index] = g
        elif g.stack:
            self.duplicate_ids += 1
            goroutines.append(g)


def _fatal_message(line: str) -> str:
    """The message of a ``fatal error: ...`` line.

    Two threads failing the same check at once can interleave their output into
    ``fatal error: fatal error: concurrent map writes`` (seen with Go 1.23).
    """
    while line.startswith(_FATAL):
        line = line[len(_FATAL) :]
    return line.strip()


def _split_status(raw: str) -> tuple[str, int, bool]:
    """``chan receive (scan), 3 minutes, locked to thread`` -> ("chan receive", 3, True)."""
    parts = raw.split(", ")
    state = parts[0].replace(" (scan)", "")
    minutes = 0
    locked = False
    for part in parts[1:]:
        if part == "locked to thread":
            locked = True
        else:
            m = _MINUTES.fullmatch(part)
            if m is not None:
                minutes = int(m.group(1))
    return state, minutes, locked
