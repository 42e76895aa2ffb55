"""Bounded reading: untrusted input must not make us use unbounded memory or time.

Every input file goes through :func:`read_file` and every gzip stream through
:func:`gunzip`. Only regular files are read: a FIFO would block forever, a device such as
``/dev/zero`` never ends, and opening some devices has side effects, so the file type is
checked with ``stat`` before the file is opened, and the size before a byte is read.

Each input is decoded under a memory :class:`Budget` (see docs/LIMITS.md). Decoders count
what they are about to build (samples, frames, events, strings) before building it and call
:meth:`Budget.require`, which refuses the input with one line when the estimate is over
the budget. The budget is per input and is raised with ``--max-memory``.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from mapdoctor.errors import InputError

MIB = 1 << 20
#: Memory one input may need while it is decoded (its bytes, what is built from them and
#: the decoded model), unless raised with ``--max-memory``. With the interpreter and the
#: analysis around it, a process stays under 512 MB per input at this budget.
DEFAULT_MEMORY_BUDGET = 448 * MIB
#: Every decoder holds at least its input and what it decodes from it (a parser's copy, the
#: text, the inflated bytes), so no input larger than this share of the budget can fit.
INPUT_SHARE = 2
#: Below this nothing useful can be decoded.
MIN_MEMORY_BUDGET = 16 * MIB

#: How the budget is raised, for error messages.
RAISE_HINT = "raise the budget with --max-memory"

GZIP_MAGIC = b"\x1f\x8b"
_READ_CHUNK = 8 * MIB


def describe_bytes(n: int) -> str:
    """``n`` bytes for people: ``512 B``, ``3.4 MiB``, ``256 MiB``, ``1.5 GiB``."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    text = f"{value:.1f}"
    return f"{text.removesuffix('.0')} {unit}"


_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*")
_UNITS = {"": MIB, "k": 1 << 10, "m": MIB, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str) -> int:
    """``512M``, ``2G``, ``1.5GiB``, ``800`` (MiB when no unit) -> bytes; ValueError otherwise."""
    m = _SIZE.fullmatch(text)
    if m is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 512M or 2G)")
    value = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if value < MIN_MEMORY_BUDGET:
        raise ValueError(f"{text!r} is below the minimum of {describe_bytes(MIN_MEMORY_BUDGET)}")
    return value


@dataclass(frozen=True, slots=True)
class Budget:
    """The memory one input may cost while it is read and decoded, in bytes."""

    bytes: int = DEFAULT_MEMORY_BUDGET

    @property
    def input_limit(self) -> int:
        """The largest file read, or gzip stream inflated, under this budget."""
        return self.bytes // INPUT_SHARE

    def require(self, path: str, what: str, need: int, detail: str) -> None:
        """Refuse the input (InputError) when decoding it would need more than the budget.

        ``need`` is an upper estimate in bytes; ``detail`` says what was counted
        (``"2000000 samples, 60000000 frames"``)."""
        if need > self.bytes:
            raise InputError(
                path, what,
                f"decoding it would need about {describe_bytes(need)} of memory ({detail}), more than the "
                f"{describe_bytes(self.bytes)} budget per input; {RAISE_HINT}")


#: One budget per process, set by the command line: a module global rather than a context
#: variable so that the loader threads of ``diagnose`` see it too.
_BUDGET = [Budget()]


def current_budget() -> Budget:
    """The budget in force (the default unless a command set another with :func:`memory_budget`)."""
    return _BUDGET[-1]


@contextmanager
def memory_budget(budget: Budget) -> Iterator[Budget]:
    """Decode under ``budget`` inside the ``with`` block."""
    _BUDGET.append(budget)
    try:
        yield budget
    finally:
        _BUDGET.remove(budget)


def file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def os_reason(exc: OSError) -> str:
    """``No such file or directory`` -> ``no such file or directory`` (the style of our errors)."""
    why = exc.strerror or str(exc)
    return why[:1].lower() + why[1:] if why[1:2].islower() else why


def check_regular(path: Path) -> os.stat_result:
    """The ``stat`` of ``path`` (links followed) when it is a regular file; InputError otherwise.

    Nothing is opened: a FIFO, a device or a socket (or a link to one) is refused on its type.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InputError(str(path), "file", os_reason(exc)) from None
    kind = file_kind(st.st_mode)
    if kind is not None:
        why = kind if kind == "not a regular file" else f"{kind}, not a regular file"
        raise InputError(str(path), "file", f"{why}; only regular files are read")
    return st


def _share_hint() -> str:
    return (f" (1/{INPUT_SHARE} of the {describe_bytes(current_budget().bytes)} memory budget per input); "
            "raise the budget with --max-memory")


def read_file(path: Path, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else and anything too large.

    ``limit`` defaults to the input share of the memory budget in force. The size is checked
    before reading; a file that grows while read is still cut at the limit.
    """
    name = str(path)
    cap = current_budget().input_limit if limit is None else limit
    hint = _share_hint() if limit is None else ""
    fd, _ = _open_regular(path, cap, hint)
    try:
        parts: list[bytes] = []
        total = 0
        # /proc files and files that grow report a size that is not what a read returns,
        # so the read itself is bounded too.
        while total <= cap:
            chunk = os.read(fd, min(_READ_CHUNK, cap + 1 - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputError(name, "file", os_reason(exc)) from None
    finally:
        os.close(fd)
    if total > cap:
        raise InputError(name, "file", f"larger than the {describe_bytes(cap)} limit{hint}")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _open_regular(path: Path, cap: int, hint: str) -> tuple[int, os.stat_result]:
    """An fd of the regular file ``path`` and its fstat, checked against ``cap`` before it is
    opened and against being swapped for something else (a FIFO, a device) while it is."""
    name = str(path)
    st = check_regular(path)
    if st.st_size > cap:
        raise InputError(name, "file", f"{describe_bytes(st.st_size)} is larger than the {describe_bytes(cap)} "
                         f"limit{hint}")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(name, "file", os_reason(exc)) from None
    try:
        now = os.fstat(fd)
    except OSError as exc:
        os.close(fd)
        raise InputError(name, "file", os_reason(exc)) from None
    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
        os.close(fd)
        raise InputError(name, "file", "replaced while being opened; only regular files are read")
    return fd, now


def map_file(path: Path, head: bytes) -> mmap.mmap | None:
    """A read-only map of the regular file ``path`` when it starts with ``head``, else None.

    For decoders that walk a large input once (execution traces): the pages of a map are the
    file's page cache, so what is resident can be given back as decoding moves on (see
    :func:`release_before`), where bytes read into memory would hold the whole file to the end.
    The same checks and size limit as :func:`read_file` apply; None for an empty file, one that
    does not start with ``head``, or one that cannot be mapped (the caller then reads it).
    """
    cap = current_budget().input_limit
    fd, now = _open_regular(path, cap, _share_hint())
    try:
        if now.st_size < len(head) or not head:
            return None
        if os.pread(fd, len(head), 0) != head or now.st_size > cap:
            return None
        return mmap.mmap(fd, now.st_size, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None  # e.g. a file system that cannot map files: read it instead
    finally:
        os.close(fd)


def release_before(data: bytes | bytearray | mmap.mmap, offset: int) -> None:
    """Let the kernel drop the resident pages of a mapped input before ``offset``.

    Only a hint: a page used again is read back from the file, so correctness never depends
    on it. Does nothing for bytes.
    """
    release_range(data, 0, offset)


def release_range(data: bytes | bytearray | mmap.mmap, start: int, end: int) -> None:
    """Like :func:`release_before`, for the whole pages between ``start`` and ``end``."""
    if not isinstance(data, mmap.mmap) or not hasattr(mmap, "MADV_DONTNEED"):
        return
    first = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE
    last = end - end % mmap.PAGESIZE
    if last > first:
        with suppress(OSError, ValueError):
            data.madvise(mmap.MADV_DONTNEED, first, last - first)


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip(data: bytes, path: str, limit: int | None = None) -> bytes:
    """Inflate a (possibly multi-member) gzip stream, at most ``limit`` bytes out.

    ``limit`` defaults to the input share of the memory budget in force: a 1 KB bomb can
    inflate to gigabytes, so inflating stops as soon as the output passes it."""
    cap = current_budget().input_limit if limit is None else limit
    hint = _share_hint() if limit is None else ""
    # One growing buffer, not chunks joined at the end: the join would hold the inflated
    # stream twice at its peak (a 200 MiB inflated trace: 400 MiB). A large bytearray grows
    # in place (realloc of an mmap'd block is an mremap), and it is handed on as it is: the
    # decoders only index, slice and view it.
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = d.decompress(rest, min(cap - len(out) + 1, _READ_CHUNK))
            while True:
                out += chunk
                if len(out) > cap:
                    raise InputError(path, "gzip", f"inflates to more than {describe_bytes(cap)}{hint}")
                if d.eof or not d.unconsumed_tail:
                    break
                chunk = d.decompress(d.unconsumed_tail, min(cap - len(out) + 1, _READ_CHUNK))
        except zlib.error as exc:
            raise InputError(path, "gzip", f"corrupt stream ({exc})") from None
        if not d.eof:
            raise InputError(path, "gzip", "truncated stream")
        rest = d.unused_data
        # Trailing zero padding after the last member is tolerated, like gzip(1) does.
        if rest.strip(b"\x00") == b"":
            break
    return out  # type: ignore[return-value]  # bytes-like for every reader; see above
