"""Applying the safe fixes of a report to the files on disk."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import read_file
from mapdoctor.source.files import MAX_SOURCE_BYTES
from mapdoctor.source.findings import Finding, TextEdit


def safe_edits(findings: Iterable[Finding]) -> dict[str, list[TextEdit]]:
    """The edits of every safe fix, by file."""
    out: dict[str, list[TextEdit]] = {}
    for f in findings:
        if f.fix is not None and f.fix.safe:
            out.setdefault(f.file, []).extend(f.fix.edits)
    return out


def apply_edits(data: bytes, edits: Iterable[TextEdit]) -> tuple[bytes, int]:
    """``data`` with the edits applied (overlapping ones after the first are dropped)."""
    chosen: list[TextEdit] = []
    for e in sorted(edits, key=lambda e: (e.span.start_byte, e.span.end_byte)):
        if e.span.end_byte > len(data) or (chosen and e.span.start_byte < chosen[-1].span.end_byte):
            continue
        chosen.append(e)
    out = data
    for e in reversed(chosen):
        out = out[: e.span.start_byte] + e.replacement.encode() + out[e.span.end_byte :]
    return out, len(chosen)


def apply_fixes(findings: Iterable[Finding]) -> dict[str, int]:
    """Rewrite each file with its safe fixes; returns the number of edits applied per file."""
    applied: dict[str, int] = {}
    for file, edits in safe_edits(findings).items():
        path = Path(file)
        data = read_file(path, MAX_SOURCE_BYTES)
        new, n = apply_edits(data, edits)
        if n:
            try:
                path.write_bytes(new)
            except OSError as exc:
                raise InputError(file, "fix", exc.strerror or str(exc)) from None
            applied[file] = n
    return applied
