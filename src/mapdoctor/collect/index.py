"""What the pprof index page and the trace header tell about the target.

net/http/pprof exposes no Go version: profiles carry no build info, and the only
endpoints that would reveal more (``cmdline``, expvar's ``/debug/vars``) are never
fetched. Two cheap clues remain: the profiles the index lists (``goroutineleak``
exists from Go 1.26) and the format version in an execution trace's header, which
the runtime bumps with most releases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_ROW = re.compile(r"<tr><td>(\d+)</td><td><a href='([\w.-]+)\?debug=1'>")
_TRACE_HEADER = re.compile(rb"^go 1\.(\d+) trace\x00")

#: Trace header format -> the Go releases that write it (GO-RUNTIME-FACTS §0, §5.1).
TRACE_FORMAT_RELEASES = {
    19: "Go 1.19 to 1.20",
    21: "Go 1.21",
    22: "Go 1.22",
    23: "Go 1.23 or 1.24",
    25: "Go 1.25",
    26: "Go 1.26 or later",
}


@dataclass(frozen=True, slots=True)
class GoVersionHint:
    releases: str  # "Go 1.26 or later"
    evidence: str


def parse_index(html: str) -> dict[str, int]:
    """Profile name -> count, from the HTML of ``/debug/pprof/``."""
    return {name: int(count) for count, name in _ROW.findall(html)}


def trace_format(path: Path) -> int | None:
    """The minor version in an execution trace's header (``go 1.26 trace`` -> 26)."""
    try:
        with path.open("rb") as fh:
            m = _TRACE_HEADER.match(fh.read(16))
    except OSError:
        return None
    return int(m.group(1)) if m else None


def version_hint(index: dict[str, int] | None, trace_minor: int | None) -> GoVersionHint | None:
    """The most precise statement the clues allow, or None."""
    if trace_minor is not None:
        releases = TRACE_FORMAT_RELEASES.get(trace_minor, f"Go 1.{trace_minor} or later")
        return GoVersionHint(releases, f"execution trace header 'go 1.{trace_minor} trace'")
    if index and "goroutineleak" in index:
        return GoVersionHint("Go 1.26 or later", "the pprof index lists the goroutineleak profile")
    return None
