"""Cheap checks that a downloaded body is what was asked for, before it is kept.

The loaders validate everything again; these checks exist to turn the common wrong
answers (a login page, a proxy's error page, a gzip bomb) into a clear reason at
collection time, reading the file in chunks so memory stays bounded.
"""

from __future__ import annotations

import zlib
from enum import StrEnum
from pathlib import Path

from mapdoctor.formats.limits import GZIP_MAGIC

#: Most a profile may inflate to. Real profiles inflate to a few MB; anything near this
#: is a bomb, and it is found here by streaming instead of inflating it in memory.
MAX_PROFILE_INFLATED = 256 << 20
_CHUNK = 1 << 20


class BodyKind(StrEnum):
    PPROF = "pprof"  # gzipped profile.proto
    TRACE = "trace"  # runtime/trace binary
    GOROUTINE_TEXT = "goroutine_text"  # goroutine?debug=2


class BodyError(Exception):
    """The body is not what was asked for; the message says what it is instead."""


def check_body(path: Path, kind: BodyKind, content_type: str = "") -> None:
    """Raise BodyError unless the file at ``path`` plausibly holds ``kind``."""
    with path.open("rb") as fh:
        head = fh.read(512)
    if not head:
        raise BodyError("empty response")
    if content_type.lower().startswith("text/html") or head.lstrip()[:1] == b"<":
        raise BodyError("got an HTML page instead of Go runtime data (a login page or a proxy? check the URL)")
    if kind is BodyKind.PPROF:
        if head[:2] == GZIP_MAGIC:
            _check_gzip(path, MAX_PROFILE_INFLATED)
        elif head[:1] != b"\x0a":  # profile.proto starts with field 1 (sample_type)
            raise BodyError(f"not a pprof profile (starts with {head[:16]!r})")
    elif kind is BodyKind.TRACE:
        if not head.startswith(b"go 1."):
            raise BodyError(f"not an execution trace (starts with {head[:16]!r})")
    elif kind is BodyKind.GOROUTINE_TEXT and not head.startswith(b"goroutine "):
        raise BodyError(f"not a goroutine dump (starts with {head[:16]!r})")


def _check_gzip(path: Path, limit: int) -> None:
    """Inflate the (possibly multi-member) stream chunk by chunk, discarding the output."""
    total = 0
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        with path.open("rb") as fh:
            while data := fh.read(_CHUNK):
                while data:
                    if d.eof:
                        if not data.strip(b"\x00"):
                            break  # zero padding after the last member, as gzip(1) allows
                        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    total += len(d.decompress(data, _CHUNK))
                    if total > limit:
                        raise BodyError(f"gzip bomb: inflates to more than {limit >> 20} MiB")
                    data = d.unused_data if d.eof else d.unconsumed_tail
            if not d.eof:
                total += len(d.flush())
    except zlib.error as exc:
        raise BodyError(f"corrupt gzip stream ({exc})") from None
    if not d.eof:
        raise BodyError("truncated gzip stream")
