"""Finding the Go files to lint and reading each one defensively.

Every file is read with a size cap, checked for UTF-8 and for the generated-code marker before
it is parsed; a file that fails is reported as skipped and the others go on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from mapdoctor.errors import InputError
from mapdoctor.formats.limits import read_file

#: Larger sources are machine-made tables in practice; they are skipped, not parsed.
MAX_SOURCE_BYTES = 2 << 20

#: The convention of https://go.dev/s/generatedcode (what `go vet` and gopls honour).
_GENERATED = re.compile(rb"^// Code generated .* DO NOT EDIT\.\r?$", re.MULTILINE)
_PACKAGE = re.compile(rb"^package\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_GO_DIRECTIVE = re.compile(r"^go\s+(\d+)\.(\d+)", re.MULTILINE)

SKIPPED_DIRS = frozenset({"testdata"})
VENDOR_DIR = "vendor"


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path
    display: str  # the path as reported (relative to the argument it was found under)
    data: bytes
    package: str


class Unreadable(Exception):
    """A file that is skipped; the message says why."""


def discover(paths: Sequence[Path], *, include_vendor: bool = False) -> tuple[list[Path], list[Path]]:
    """Go files under ``paths`` (directories walked, files taken as given), and missing paths."""
    found: list[Path] = []
    missing: list[Path] = []
    seen: set[Path] = set()
    for root in paths:
        if root.is_file():
            candidates: Iterable[Path] = [root]
        elif root.is_dir():
            candidates = _walk(root, include_vendor)
        else:
            missing.append(root)
            continue
        for p in candidates:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                found.append(p)
    return found, missing


def _walk(root: Path, include_vendor: bool) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        # Pruned in place so os.walk does not descend: the go tool ignores these folders too.
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith((".", "_"))
            and d not in SKIPPED_DIRS
            and (include_vendor or d != VENDOR_DIR)
        )
        for name in sorted(filenames):
            if name.endswith(".go") and not name.startswith((".", "_")):
                p = Path(dirpath) / name
                if p.is_file():
                    yield p


def load(path: Path, display: str) -> SourceFile:
    """Read one Go source; raises :class:`Unreadable` with the reason to skip it."""
    try:
        data = read_file(path, MAX_SOURCE_BYTES)
    except InputError as err:
        raise Unreadable(err.why) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
    if _GENERATED.search(data):
        raise Unreadable("generated file (// Code generated ... DO NOT EDIT.)")
    m = _PACKAGE.search(data)
    if m is None:
        raise Unreadable("no package clause")
    return SourceFile(path=path, display=display, data=data, package=m.group(1).decode())


@lru_cache(maxsize=1024)
def go_version(directory: Path) -> tuple[int, int] | None:
    """The ``go`` directive of the go.mod governing ``directory``, e.g. ``(1, 23)``."""
    for d in (directory, *directory.parents):
        mod = d / "go.mod"
        if mod.is_file():
            try:
                m = _GO_DIRECTIVE.search(mod.read_text(encoding="utf-8", errors="replace")[:1 << 16])
            except OSError:
                return None
            return (int(m.group(1)), int(m.group(2))) if m else None
    return None
