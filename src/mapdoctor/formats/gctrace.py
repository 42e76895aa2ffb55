"""GODEBUG GC trace logs (``gctrace=1``, ``scavtrace=1``, ``gcpacertrace=1``) -> :class:`GCTrace`.

Line formats, from the runtime's print statements (Go 1.21-1.27)::

    gc 8 @0.458s 7%: 0.017+28+0.004 ms clock, 0.034+20/8.9/11+0.009 ms cpu, 183->186->149 MB,
        187 MB goal, 0 MB stacks, 0 MB globals, 2 P (forced)          (one line; src/runtime/mgc.go)
    scav 0 KiB work (bg), 217640 KiB work (eager), 240560 KiB now, 29% util (forced)
                                                                      (src/runtime/mgcscavenge.go)
    pacer: assist ratio=+4.971146e-001 (scan 72 MB in 145->291 MB) workers=0++2.500000e-001
                                                                      (src/runtime/mgcpacer.go)

Go 1.26+ may add `` (checking for goroutine leaks)`` after the percentage, and prints
floats in pacer lines as ``0.25`` instead of ``+2.500000e-001``. Runtimes before 1.18
print neither "MB stacks" nor "MB globals".

The runtime writes these lines to stderr, usually mixed with the program's own output.
Policy, so that a real log never makes parsing fail:

* Lines that are not runtime trace output are skipped and counted (``junk_lines``).
* A line that starts like a trace line but does not parse is skipped, counted in
  ``malformed_lines`` and named with its line number in ``notes``. The exception is a
  ``gc`` line cut in two by the program writing to stderr in the middle of it: when the
  head of the line plus the next line form a valid ``gc`` line, the cycle is kept
  (noted as rejoined) and the interleaved text counts as junk.
* A trace line cut at the end of the input marks the trace ``truncated``.
* Trace lines may carry a prefix added by a log collector (``2024-05-01T10:00:00Z stderr F gc 1 @...``).
* Only input without a single ``gc`` or ``scav`` line is an :class:`InputError`.
"""

from __future__ import annotations

import re

from mapdoctor.errors import InputError
from mapdoctor.formats.textlines import SNIFF_CHARS, cap_text, iter_lines, strip_bom
from mapdoctor.model.gc import GCClockTimes, GCCpuTimes, GCCycle, GCTrace, ScavengeRecord

WHAT = "gctrace"
MAX_NOTES = 20
MAX_JUNK_LINE_NUMBERS = 10

_MS = r"([0-9]{1,12}(?:\.[0-9]{1,6})?)"
_INT = r"([0-9]{1,15})"
_GC_LINE = re.compile(
    rf"gc {_INT} @([0-9]{{1,12}}\.[0-9]{{1,6}})s {_INT}%( \(checking for goroutine leaks\))?: "
    rf"{_MS}\+{_MS}\+{_MS} ms clock, "
    rf"{_MS}\+{_MS}/{_MS}/{_MS}\+{_MS} ms cpu, "
    rf"{_INT}->{_INT}->{_INT} MB, {_INT} MB goal, "
    rf"(?:{_INT} MB stacks, )?(?:{_INT} ?MB globals, )?{_INT} P( \(forced\))?[ \t]*",
    re.ASCII,
)
_SCAV_LINE = re.compile(
    rf"scav {_INT} KiB work \(bg\), {_INT} KiB work \(eager\), {_INT} KiB now, {_INT}% util"
    r"( \(forced\)| \[controller reset\])?[ \t]*",
    re.ASCII,
)
#: Where a trace line starts: at the beginning of the line or after a collector's prefix.
_START = re.compile(r"(?:^|(?<=\s))(?:gc [0-9]+ @|scav [0-9]+ KiB|pacer: |scan: (?:total|class) )", re.ASCII)
#: Rejoining an interrupted gc line tries every cut point of its head, so it is bounded:
#: a gc line is under 300 characters, and real logs have a handful of interrupted lines.
_MAX_GC_LINE_CHARS = 300
_MAX_REJOIN_TRIES = 1000
_SNIFF = re.compile(
    r"(?:^|(?<=\s))(?:gc [0-9]+ @[0-9.]+s [0-9]+%|scav [0-9]+ KiB work \(bg\))", re.ASCII | re.MULTILINE
)


def looks_like_gctrace(text: str) -> bool:
    """Cheap sniff: a ``gc N @Ts P%`` or ``scav N KiB work (bg)`` line near the start."""
    return _SNIFF.search(strip_bom(text[:SNIFF_CHARS])) is not None


def parse_gctrace(text: str, path: str) -> GCTrace:
    """Parse a GC trace log; raise :class:`InputError` if it holds no ``gc``/``scav`` line."""
    text = strip_bom(text)
    capped, cut = cap_text(text)
    trace = GCTrace()
    if cut:
        trace.truncated = True
        _note(trace, f"input longer than {len(capped)} characters; the rest was not read")
    ends_with_newline = capped.endswith("\n")
    # The last line of input that does not end with a newline may have been cut mid-write.
    unterminated = -1 if ends_with_newline else capped.count("\n") + 1
    lines = iter_lines(capped)
    held: tuple[int, str] | None = None  # a malformed gc line waiting to be rejoined with the next
    rejoin_budget = _MAX_REJOIN_TRIES
    for line_no, line in lines:
        if held is not None:
            held_no, head = held
            held = None
            if rejoin_budget > 0 and _could_end_gc_line(line):
                rejoin_budget -= 1
                if _rejoin(trace, held_no, head, line_no, line):
                    continue
            _malformed(trace, held_no, head)
        start = _START.search(line)
        if start is None:
            if line.strip():
                _junk(trace, line_no)
            continue
        body = line[start.start() :]
        kind = body[:2]
        if kind == "gc":
            m = _GC_LINE.fullmatch(body)
            if m is not None:
                trace.cycles.append(_cycle(m, line_no))
            else:
                held = (line_no, line)
        elif kind == "sc" and body.startswith("scav"):
            m = _SCAV_LINE.fullmatch(body)
            if m is not None:
                trace.scavenges.append(_scavenge(m, line_no))
            else:
                _malformed_or_cut(trace, line_no, line, line_no == unterminated)
        elif kind == "pa":
            trace.pacer_lines += 1
        else:
            trace.scan_stat_lines += 1
    if held is not None:
        _malformed_or_cut(trace, held[0], held[1], held[0] == unterminated)
    if not trace.cycles and not trace.scavenges:
        raise InputError(path, WHAT, _why_empty(text))
    return trace


def _why_empty(text: str) -> str:
    if not text.strip():
        return "empty input"
    return "no 'gc N @...' or 'scav ...' line found (was the program run with GODEBUG=gctrace=1?)"


def _could_end_gc_line(line: str) -> bool:
    tail = line.rstrip()
    return (
        0 < len(tail) <= _MAX_GC_LINE_CHARS
        and not line[0].isspace()
        and tail.endswith((" P", " P (forced)"))
    )


def _rejoin(trace: GCTrace, head_no: int, head: str, tail_no: int, tail: str) -> bool:
    """Try ``head[:i] + tail`` for the longest ``i`` that yields a valid gc line."""
    start = _START.search(head)
    if start is None:
        return False
    body = head[start.start() :]
    # The interleaved text ends the head line; the gc text before it is at least "gc N @".
    for i in range(min(len(body) - 1, _MAX_GC_LINE_CHARS), 5, -1):
        m = _GC_LINE.fullmatch(body[:i] + tail)
        if m is not None:
            trace.cycles.append(_cycle(m, head_no))
            _junk(trace, head_no)
            _note(trace, f"line {head_no}: gc line interrupted by other output, rejoined with line {tail_no}")
            return True
    return False


def _cycle(m: re.Match[str], line_no: int) -> GCCycle:
    g = m.group
    return GCCycle(
        number=int(g(1)),
        at_seconds=float(g(2)),
        gc_cpu_percent=int(g(3)),
        leak_check=g(4) is not None,
        clock_ms=GCClockTimes(float(g(5)), float(g(6)), float(g(7))),
        cpu_ms=GCCpuTimes(float(g(8)), float(g(9)), float(g(10)), float(g(11)), float(g(12))),
        heap_start_mb=int(g(13)),
        heap_end_mb=int(g(14)),
        heap_live_mb=int(g(15)),
        heap_goal_mb=int(g(16)),
        stacks_mb=int(g(17)) if g(17) is not None else None,
        globals_mb=int(g(18)) if g(18) is not None else None,
        procs=int(g(19)),
        forced=g(20) is not None,
        line_no=line_no,
    )


def _scavenge(m: re.Match[str], line_no: int) -> ScavengeRecord:
    g = m.group
    suffix = g(5) or ""
    return ScavengeRecord(
        background_kib=int(g(1)),
        eager_kib=int(g(2)),
        released_kib=int(g(3)),
        util_percent=int(g(4)),
        forced=suffix == " (forced)",
        controller_reset=suffix == " [controller reset]",
        line_no=line_no,
    )


def _note(trace: GCTrace, text: str) -> None:
    if len(trace.notes) < MAX_NOTES:
        trace.notes.append(text)
    elif len(trace.notes) == MAX_NOTES:
        trace.notes.append("(further notes omitted)")


def _junk(trace: GCTrace, line_no: int) -> None:
    trace.junk_lines += 1
    if len(trace.junk_line_numbers) < MAX_JUNK_LINE_NUMBERS:
        trace.junk_line_numbers.append(line_no)


def _malformed_or_cut(trace: GCTrace, line_no: int, line: str, last_unterminated: bool) -> None:
    if last_unterminated:
        trace.truncated = True
        _note(trace, f"line {line_no}: the last line is cut short: output truncated")
    else:
        _malformed(trace, line_no, line)


def _malformed(trace: GCTrace, line_no: int, line: str) -> None:
    trace.malformed_lines += 1
    _note(trace, f"line {line_no}: malformed trace line skipped: {line[:120]!r}")
