"""Bounded reading: untrusted input must not make us use unbounded memory or time."""

from __future__ import annotations

import zlib
from pathlib import Path

from mapdoctor.errors import InputError

#: Largest input file we read at all.
MAX_FILE_BYTES = 1 << 30
#: Largest result of inflating one gzip stream (pprof profiles are gzipped; a 1 KB
#: bomb can inflate to gigabytes, so we stop at this many bytes).
MAX_INFLATED_BYTES = 256 << 20

GZIP_MAGIC = b"\x1f\x8b"


def read_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read a whole file, refusing files larger than ``limit``."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(str(path), "file", exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise InputError(str(path), "file", f"larger than {limit} bytes")
    return data


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip(data: bytes, path: str, limit: int = MAX_INFLATED_BYTES) -> bytes:
    """Inflate a (possibly multi-member) gzip stream, at most ``limit`` bytes out."""
    out: list[bytes] = []
    total = 0
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(rest, limit - total + 1)
            while True:
                out.append(chunk)
                total += len(chunk)
                if total > limit:
                    raise InputError(path, "gzip", f"inflates to more than {limit} bytes")
                if d.eof or not d.unconsumed_tail:
                    break
                chunk = d.decompress(d.unconsumed_tail, limit - total + 1)
        except zlib.error as exc:
            raise InputError(path, "gzip", f"corrupt stream ({exc})") from None
        if not d.eof:
            raise InputError(path, "gzip", "truncated stream")
        rest = d.unused_data
        # Trailing zero padding after the last member is tolerated, like gzip(1) does.
        if rest.strip(b"\x00") == b"":
            break
    return b"".join(out)
