"""How one map type is laid out in memory, from the DWARF the linker synthesised for it.

Classic maps (``runtime/map.go``, Go <= 1.23 and ``GOEXPERIMENT=noswissmap``): a ``hash<K,V>``
header pointing at an array of 2^B ``bucket<K,V>`` (8 tophash bytes, 8 keys, 8 values, an
overflow pointer). Swiss tables (``internal/runtime/maps``, Go >= 1.24): a ``map<K,V>`` header
whose ``dirPtr`` is either one group (a small map, ``dirLen == 0``) or a directory of
``dirLen`` pointers to ``table<K,V>``, each owning a power-of-two array of groups (a control
word and 8 key/elem slots). Which one a map is comes from the name of that synthesised header
struct, so one binary never needs a version table.

Heap sizes follow the allocator: every allocation is rounded up to its size class
(``internal/runtime/gc/sizeclasses.go``, the same 68 classes in 1.21-1.27); objects with
pointers above 512 bytes carry an 8-byte malloc header from Go 1.22 on; objects above 32 KiB
are rounded to 8 KiB pages.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass

from mapdoctor.formats.dwarf import GoType, GoTypes

SIZE_CLASSES = (
    0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352, 384,
    416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304, 2688, 3072,
    3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568,
    14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
)
MAX_SMALL_SIZE = 32768
PAGE_SIZE = 8192
MALLOC_HEADER = 8
MIN_SIZE_FOR_MALLOC_HEADER = 512
BUCKET_SLOTS = 8
GROUP_SLOTS = 8
MAX_TABLE_CAPACITY = 1024
MAX_AVG_GROUP_LOAD = 7


@dataclass(frozen=True)
class Allocator:
    """The Go allocator's rounding, for one Go version."""

    malloc_headers: bool  # Go >= 1.22

    def _request(self, size: int, scan: bool) -> int:
        if self.malloc_headers and scan and size > MIN_SIZE_FOR_MALLOC_HEADER:
            return size + MALLOC_HEADER
        return size

    def held(self, size: int, scan: bool) -> int:
        """Heap bytes one allocation of ``size`` occupies (its size-class slot or pages)."""
        return _held(self.malloc_headers, size, scan)

    def _held_uncached(self, size: int, scan: bool) -> int:
        if size <= 0:
            return 0
        if size <= MAX_SMALL_SIZE - MALLOC_HEADER:
            req = self._request(size, scan)
            return SIZE_CLASSES[bisect.bisect_left(SIZE_CLASSES, req)]
        return -(-size // PAGE_SIZE) * PAGE_SIZE

    def usable(self, size: int, scan: bool) -> int:
        """``roundupsize``: what a request of ``size`` can use (the slot minus any header)."""
        if size <= 0:
            return 0
        if size <= MAX_SMALL_SIZE - MALLOC_HEADER:
            req = self._request(size, scan)
            return SIZE_CLASSES[bisect.bisect_left(SIZE_CLASSES, req)] - (req - size)
        return -(-size // PAGE_SIZE) * PAGE_SIZE


@functools.lru_cache(maxsize=4096)
def _held(malloc_headers: bool, size: int, scan: bool) -> int:
    return Allocator(malloc_headers)._held_uncached(size, scan)


def has_pointers(types: GoTypes, off: int, _memo: dict[int, bool] | None = None) -> bool:
    memo = _memo if _memo is not None else {}
    if off in memo:
        return memo[off]
    memo[off] = True  # a cycle can only go through a pointer
    t = types.resolve(off) if off in types.types else None
    if t is None or t.kind in ("ptr", "unsafe_ptr", "map", "chan", "func", "slice", "string", "iface", "eface"):
        result = True
    elif t.kind == "array":
        result = t.count > 0 and t.elem is not None and has_pointers(types, t.elem, memo)
    elif t.kind == "struct":
        result = any(has_pointers(types, f.type, memo) for f in t.fields)
    else:
        result = False
    memo[off] = result
    return result


@dataclass(frozen=True)
class Slots:
    """Where keys and values sit inside one bucket or group."""

    key_type: int
    elem_type: int
    #: Offset of slot i's key = key_base + i * key_stride (same for elems).
    key_base: int
    key_stride: int
    elem_base: int
    elem_stride: int
    elem_size: int


@dataclass(frozen=True)
class ClassicLayout:
    header_size: int
    count: int
    flags: int
    b: int
    noverflow: int
    buckets: int
    oldbuckets: int
    nevacuate: int
    extra: int
    bucket_size: int
    overflow: int  # offset of the overflow pointer in a bucket
    slots: Slots
    scan: bool  # buckets hold pointers (the GC scans them)


@dataclass(frozen=True)
class SwissLayout:
    header_size: int
    used: int
    dir_ptr: int
    dir_len: int
    global_depth: int
    table_size: int
    t_used: int
    t_capacity: int
    t_growth_left: int
    t_groups_data: int
    t_length_mask: int
    group_size: int
    slots: Slots
    scan: bool


Layout = ClassicLayout | SwissLayout


class LayoutError(Exception):
    """The DWARF of a map type is not shaped as expected."""


def _member(types: GoTypes, struct: GoType, name: str) -> int:
    for f in struct.fields:
        if f.name == name:
            return f.offset
    raise LayoutError(f"{struct.name}: no field {name}")


def _field_type(types: GoTypes, struct: GoType, name: str) -> GoType:
    for f in struct.fields:
        if f.name == name:
            return types.resolve(f.type)
    raise LayoutError(f"{struct.name}: no field {name}")


def _pointee(types: GoTypes, t: GoType) -> GoType:
    if t.kind != "ptr" or t.elem is None:
        raise LayoutError(f"{t.name}: not a pointer")
    return types.resolve(t.elem)


def map_layout(types: GoTypes, map_type: GoType) -> Layout:
    """The layout of ``map_type`` (a ``kind == "map"`` type), classic or Swiss."""
    if map_type.header is None:
        raise LayoutError(f"{map_type.name}: no header type")
    header = _pointee(types, types.resolve(map_type.header))
    scan = any(has_pointers(types, t) for t in (map_type.key, map_type.elem) if t is not None)
    if header.name.startswith("hash<"):
        bucket = _pointee(types, _field_type(types, header, "buckets"))
        keys = _field_type(types, bucket, "keys")
        vals = _field_type(types, bucket, "values")
        if keys.elem is None or vals.elem is None:
            raise LayoutError(f"{bucket.name}: untyped keys or values")
        ks = types.resolve(keys.elem).size
        vs = types.resolve(vals.elem).size
        slots = Slots(keys.elem, vals.elem, _member(types, bucket, "keys"), ks, _member(types, bucket, "values"), vs,
                      vs)
        return ClassicLayout(
            header_size=header.size, count=_member(types, header, "count"), flags=_member(types, header, "flags"),
            b=_member(types, header, "B"), noverflow=_member(types, header, "noverflow"),
            buckets=_member(types, header, "buckets"), oldbuckets=_member(types, header, "oldbuckets"),
            nevacuate=_member(types, header, "nevacuate"), extra=_member(types, header, "extra"),
            bucket_size=bucket.size, overflow=_member(types, bucket, "overflow"), slots=slots, scan=scan)
    if header.name.startswith("map<"):
        table = _pointee(types, _pointee(types, _field_type(types, header, "dirPtr")))
        groups_ref = _field_type(types, table, "groups")
        group = _pointee(types, _field_type(types, groups_ref, "data"))
        slots_arr = _field_type(types, group, "slots")
        if slots_arr.elem is None:
            raise LayoutError(f"{group.name}: untyped slots")
        slot = types.resolve(slots_arr.elem)
        key_f = next((f for f in slot.fields if f.name == "key"), None)
        elem_f = next((f for f in slot.fields if f.name == "elem"), None)
        if key_f is None or elem_f is None:
            raise LayoutError(f"{slot.name}: no key/elem")
        base = _member(types, group, "slots")
        slots = Slots(key_f.type, elem_f.type, base + key_f.offset, slot.size, base + elem_f.offset, slot.size,
                      types.resolve(elem_f.type).size)
        groups_off = _member(types, table, "groups")
        return SwissLayout(
            header_size=header.size, used=_member(types, header, "used"), dir_ptr=_member(types, header, "dirPtr"),
            dir_len=_member(types, header, "dirLen"), global_depth=_member(types, header, "globalDepth"),
            table_size=table.size, t_used=_member(types, table, "used"),
            t_capacity=_member(types, table, "capacity"), t_growth_left=_member(types, table, "growthLeft"),
            t_groups_data=groups_off + _member(types, groups_ref, "data"),
            t_length_mask=groups_off + _member(types, groups_ref, "lengthMask"),
            group_size=group.size, slots=slots, scan=scan)
    raise LayoutError(f"{map_type.name}: unknown map header {header.name}")


def classic_array(alloc: Allocator, layout: ClassicLayout, b: int) -> tuple[int, int]:
    """``makeBucketArray``: (buckets allocated incl. preallocated overflow, heap bytes)."""
    base = 1 << b
    nbuckets = base
    if b >= 4:
        nbuckets += 1 << (b - 4)
        size = layout.bucket_size * nbuckets
        up = alloc.usable(size, layout.scan)
        if up != size:
            nbuckets = up // layout.bucket_size
    return nbuckets, alloc.held(nbuckets * layout.bucket_size, layout.scan)


@functools.lru_cache(maxsize=8192)
def classic_fresh_bytes(alloc: Allocator, layout: ClassicLayout, n: int) -> int:
    """Heap bytes of ``make(map[K]V, n)`` after n inserts (no overflow buckets)."""
    header = alloc.held(layout.header_size, True)
    if n <= 0:
        return header
    b = 0
    while n > BUCKET_SLOTS and n > 13 * ((1 << b) // 2):
        b += 1
    if b == 0:
        return header + alloc.held(layout.bucket_size, layout.scan)
    return header + classic_array(alloc, layout, b)[1]


def _pow2_at_least(x: int) -> int:
    return 1 if x <= 1 else 1 << (x - 1).bit_length()


def swiss_max_growth(capacity: int) -> int:
    """``maxGrowthLeft`` of an empty table of ``capacity`` slots."""
    if capacity <= GROUP_SLOTS:
        return capacity - 1
    return capacity * MAX_AVG_GROUP_LOAD // GROUP_SLOTS


@functools.lru_cache(maxsize=8192)
def swiss_fresh_bytes(alloc: Allocator, layout: SwissLayout, n: int) -> int:
    """Heap bytes of ``make(map[K]V, n)`` (``NewMap``, then no growth)."""
    header = alloc.held(layout.header_size, True)
    if n <= 0:
        return header
    if n <= GROUP_SLOTS:
        return header + alloc.held(layout.group_size, layout.scan)
    target = n * GROUP_SLOTS // MAX_AVG_GROUP_LOAD
    dir_size = _pow2_at_least(-(-target // MAX_TABLE_CAPACITY))
    capacity = max(GROUP_SLOTS, _pow2_at_least(target // dir_size))
    table = alloc.held(layout.table_size, True) + alloc.held(capacity // GROUP_SLOTS * layout.group_size,
                                                              layout.scan)
    return header + alloc.held(dir_size * 8, True) + dir_size * table
