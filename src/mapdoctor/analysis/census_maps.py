"""Decoding one map from memory: len, capacity, bytes held, growth, overflow, tombstones.

Reading a live process races with its writers. A header read is validated (B, dirLen and
the pointers must be plausible and point into mapped memory), the map is decoded, and the
header is read again: if it changed, the whole decode is retried (up to ``RETRIES``); a map
that never holds still is reported from its last read with ``stable=False``. Nothing here
writes to the target.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from mapdoctor.analysis.census_layout import (
    Allocator,
    ClassicLayout,
    Layout,
    SwissLayout,
    classic_array,
    classic_fresh_bytes,
    swiss_fresh_bytes,
    swiss_max_growth,
)
from mapdoctor.formats.memory import Memory
from mapdoctor.model.census import MapState

RETRIES = 3
#: Longest overflow chain followed from one bucket (a torn read must not loop forever).
MAX_CHAIN = 4096
#: Bucket/group arrays are read in pieces of at most this many bytes.
CHUNK = 16 << 20
MIN_TOPHASH = 5
EVACUATED = (2, 3, 4)
SAME_SIZE_GROW = 8
CTRL_EMPTY_MASK = 0x8080808080808080
#: Swiss: a map whose tables have used this share of their growth budget grows on the next inserts.
NEAR_GROWTH_TENTHS = 9


@dataclass
class Budget:
    """Bytes of bucket/group arrays the census may still read (beyond that: header estimates)."""

    bytes_left: int


@dataclass
class Decoded:
    state: MapState
    #: The bytes of each live value slot (only when asked for).
    values: list[bytes] = field(default_factory=list)


def _u64(data: bytes, off: int) -> int:
    v: int = struct.unpack_from("<Q", data, off)[0]
    return v


def _u16(data: bytes, off: int) -> int:
    v: int = struct.unpack_from("<H", data, off)[0]
    return v


class _Torn(Exception):
    """A value read from a live map is inconsistent: read it again."""


def _read_chunked(mem: Memory, addr: int, size: int) -> bytes | None:
    if size <= CHUNK:
        return mem.read(addr, size)
    parts: list[bytes] = []
    for off in range(0, size, CHUNK):
        part = mem.read(addr + off, min(CHUNK, size - off))
        if part is None:
            return None
        parts.append(part)
    return b"".join(parts)


def _classic(mem: Memory, addr: int, hdr: bytes, lay: ClassicLayout, alloc: Allocator, want_values: bool,
             budget: Budget, path: str, type_name: str) -> Decoded:
    count = _u64(hdr, lay.count)
    flags = hdr[lay.flags]
    b = hdr[lay.b]
    noverflow = _u16(hdr, lay.noverflow)
    buckets = _u64(hdr, lay.buckets)
    old = _u64(hdr, lay.oldbuckets)
    nevacuate = _u64(hdr, lay.nevacuate)
    extra = _u64(hdr, lay.extra)
    if b > 48 or count > (1 << 62) or (count and not buckets):
        raise _Torn
    bsize = lay.bucket_size
    old_b = b if flags & SAME_SIZE_GROW else b - 1
    if old and old_b < 0:
        raise _Torn
    if old and nevacuate > (1 << old_b):
        raise _Torn
    header_bytes = alloc.held(lay.header_size, True)
    total = header_bytes
    capacity = (BUCKET_SLOTS_CLASSIC << b) if buckets else 0
    values: list[bytes] = []
    overflow_total = 0
    separate = 0
    estimated = False
    next_overflow = 0
    if extra:
        ex = mem.read(extra, 24)
        if ex is None:
            raise _Torn
        total += alloc.held(24, True)
        next_overflow = _u64(ex, 16)
        for slot_off in (0, 8):
            slice_ptr = _u64(ex, slot_off)
            if slice_ptr:
                sh = mem.read(slice_ptr, 24)
                if sh is None:
                    raise _Torn
                total += alloc.held(24, True) + alloc.held(_u64(sh, 16) * 8, True)
    arrays: list[tuple[int, int, bool]] = []
    if buckets:
        arrays.append((buckets, b, False))
    if old:
        arrays.append((old, old_b, True))
    for base, bb, is_old in arrays:
        nalloc, held = (1, alloc.held(bsize, lay.scan)) if bb == 0 else classic_array(alloc, lay, bb)
        total += held
        nmain = 1 << bb
        size = nmain * bsize
        if size > budget.bytes_left:
            estimated = True
            if not is_old:
                overflow_total += noverflow
                # Beyond the preallocated ones (as far as the free-list pointer shows), each
                # overflow bucket is its own allocation.
                used_pre = (next_overflow - (base + nmain * bsize)) // bsize if next_overflow else nalloc - nmain
                separate += max(0, noverflow - max(0, used_pre))
            continue
        budget.bytes_left -= size
        pre_lo, pre_hi = base + nmain * bsize, base + nalloc * bsize
        stride = bsize // 8
        per_chunk = max(1, CHUNK // bsize)  # buckets per read: memory stays bounded for huge maps
        for first in range(0, nmain, per_chunk):
            n = min(per_chunk, nmain - first)
            at = base + first * bsize
            data = mem.read(at, n * bsize)
            if data is None:
                raise _Torn
            chained = [p for p in memoryview(data).cast("Q")[lay.overflow // 8::stride] if p]
            if want_values:
                for i in range(n):
                    off = i * bsize
                    if is_old and data[off] in EVACUATED:
                        continue
                    _live(data, off, at + off, lay, values)
            del data
            for p in chained:
                seen = 0
                while p:
                    seen += 1
                    if seen > MAX_CHAIN:
                        raise _Torn
                    ob = mem.read(p, bsize)
                    if ob is None:
                        raise _Torn
                    overflow_total += 1
                    if not pre_lo <= p < pre_hi:
                        separate += 1
                    if want_values and not (is_old and ob[0] in EVACUATED):
                        _live(ob, 0, p, lay, values)
                    p = _u64(ob, lay.overflow)
    total += separate * alloc.held(bsize, lay.scan)
    growing = bool(old)
    state = MapState(
        path=path, type=type_name, impl="classic", address=addr, len=count, capacity=capacity, bytes=total,
        growing=growing, overflow=overflow_total, evacuated=(nevacuate / (1 << old_b)) if old else None,
        old_capacity=(BUCKET_SLOTS_CLASSIC << old_b) if old else 0,
        fresh_bytes=classic_fresh_bytes(alloc, lay, count), estimated=estimated, bucket_bytes=bsize)
    return Decoded(state, values)


BUCKET_SLOTS_CLASSIC = 8


def _live(data: bytes, off: int, addr: int, lay: ClassicLayout, out: list[bytes]) -> None:
    s = lay.slots
    for i in range(BUCKET_SLOTS_CLASSIC):
        if data[off + i] >= MIN_TOPHASH:
            at = off + s.elem_base + i * s.elem_stride
            out.append(data[at:at + s.elem_size])


def _group_values(data: bytes, off: int, addr: int, lay: SwissLayout, out: list[bytes]) -> None:
    ctrl = _u64(data, off)
    if ctrl & CTRL_EMPTY_MASK == CTRL_EMPTY_MASK:
        return
    s = lay.slots
    size = lay.slots.elem_size
    for i in range(8):
        if not (ctrl >> (8 * i)) & 0x80:
            at = off + s.elem_base + i * s.elem_stride
            out.append(data[at:at + size])


def _swiss(mem: Memory, addr: int, hdr: bytes, lay: SwissLayout, alloc: Allocator, want_values: bool,
           budget: Budget, path: str, type_name: str) -> Decoded:
    used = _u64(hdr, lay.used)
    dir_ptr = _u64(hdr, lay.dir_ptr)
    dir_len = _u64(hdr, lay.dir_len)
    depth = hdr[lay.global_depth]
    total = alloc.held(lay.header_size, True)
    values: list[bytes] = []
    fresh = swiss_fresh_bytes(alloc, lay, used)
    if dir_len == 0:
        if used > 8 or (used and not dir_ptr):
            raise _Torn
        capacity = 8 if dir_ptr else 0
        if dir_ptr:
            total += alloc.held(lay.group_size, lay.scan)
            if want_values:
                g = mem.read(dir_ptr, lay.group_size)
                if g is None:
                    raise _Torn
                _group_values(g, 0, dir_ptr, lay, values)
        state = MapState(path=path, type=type_name, impl="swiss", address=addr, len=used, capacity=capacity,
                         bytes=total, growing=used >= 8, fresh_bytes=fresh, bucket_bytes=lay.group_size)
        return Decoded(state, values)
    if dir_len & (dir_len - 1) or dir_len != 1 << depth or dir_len > 1 << 30:
        raise _Torn
    raw = _read_chunked(mem, dir_ptr, dir_len * 8)
    if raw is None:
        raise _Torn
    total += alloc.held(dir_len * 8, True)
    tables: list[int] = []
    seen: set[int] = set()
    for p in memoryview(raw).cast("Q"):
        if p not in seen:
            seen.add(p)
            tables.append(p)
    capacity = used_sum = tombstones = budget_used = growth_budget = 0
    estimated = False
    for tp in tables:
        th = mem.read(tp, lay.table_size)
        if th is None:
            raise _Torn
        t_used = _u16(th, lay.t_used)
        t_cap = _u16(th, lay.t_capacity)
        t_left = _u16(th, lay.t_growth_left)
        groups = _u64(th, lay.t_groups_data)
        ngroups = _u64(th, lay.t_length_mask) + 1
        if t_cap < 8 or t_cap & (t_cap - 1) or ngroups * 8 != t_cap or not groups:
            raise _Torn
        max_growth = swiss_max_growth(t_cap)
        if t_used + t_left > max_growth:
            raise _Torn
        capacity += t_cap
        used_sum += t_used
        tombstones += max_growth - t_used - t_left
        budget_used += max_growth - t_left
        growth_budget += max_growth
        gbytes = ngroups * lay.group_size
        total += alloc.held(lay.table_size, True) + alloc.held(gbytes, lay.scan)
        if want_values:
            if gbytes > budget.bytes_left:
                estimated = True
                continue
            budget.bytes_left -= gbytes
            data = _read_chunked(mem, groups, gbytes)
            if data is None:
                raise _Torn
            for gi in range(ngroups):
                _group_values(data, gi * lay.group_size, groups + gi * lay.group_size, lay, values)
    state = MapState(
        path=path, type=type_name, impl="swiss", address=addr, len=used, capacity=capacity, bytes=total,
        growing=growth_budget > 0 and budget_used * 10 >= growth_budget * NEAR_GROWTH_TENTHS, tombstones=tombstones,
        tables=len(tables), directory=dir_len, fresh_bytes=fresh, estimated=estimated,
        bucket_bytes=lay.group_size)
    # The tables were read one after the other: under concurrent inserts their counts and the
    # header's disagree. Not an error (the reading is still the best there is), but not stable.
    state.stable = used_sum == used
    return Decoded(state, values)


Decoder = Callable[..., Decoded]


def decode_map(mem: Memory, addr: int, lay: Layout, alloc: Allocator, *, path: str, type_name: str,
               want_values: bool, budget: Budget, retries: int = RETRIES) -> Decoded | None:
    """Decode the map whose header is at ``addr``; ``None`` when it cannot be read at all."""
    decoder: Decoder = _classic if isinstance(lay, ClassicLayout) else _swiss
    last: Decoded | None = None
    for _ in range(retries):
        hdr = mem.read(addr, lay.header_size)
        if hdr is None:
            return last
        try:
            got = decoder(mem, addr, hdr, lay, alloc, want_values, budget, path, type_name)
        except _Torn:
            continue
        if got.state.stable and mem.read(addr, lay.header_size) == hdr:
            return got
        last = got
    if last is not None:
        last.state.stable = False
    return last
