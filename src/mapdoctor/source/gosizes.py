"""Sizes of Go types and of the runtime's map storage (64-bit platforms), and malloc rounding.

Used to turn allocation sizes read from a profile into a map's bucket count (classic maps) or
table capacity (Swiss maps). Sources: cmd/compile/internal/reflectdata (bucket layout),
internal/runtime/maps (group layout), runtime/sizeclasses.go (identical in Go 1.21-1.27).
"""

from __future__ import annotations

from dataclasses import dataclass

from mapdoctor.source import gotree
from mapdoctor.source.gotree import Node, child, named, text
from mapdoctor.source.scope import MAX_DEPTH, PackageIndex

#: runtime class_to_size (Go 1.21-1.27, unchanged; 1.26+ spells it gc.SizeClassToSize).
SIZE_CLASSES = (
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256, 288, 320, 352,
    384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536, 1792, 2048, 2304,
    2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472, 9728, 10240, 10880,
    12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768,
)
MAX_SMALL_SIZE = 32768
PAGE_SIZE = 8192
#: Go >= 1.22 puts an 8-byte header before pointerful objects larger than 512 bytes.
MALLOC_HEADER = 8

#: Keys and elements larger than this are stored through a pointer (both implementations).
MAX_INLINE_KV = 128
#: Slots per classic bucket and per Swiss group.
SLOTS = 8

_BASIC = {
    "bool": 1, "int8": 1, "uint8": 1, "byte": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
    "rune": 4, "float32": 4, "int": 8, "uint": 8, "int64": 8, "uint64": 8, "uintptr": 8,
    "float64": 8, "complex64": 8, "complex128": 16, "string": 16, "error": 16, "any": 16,
}
_EXTERNAL = {"time.Time": (24, 8), "time.Duration": (8, 8), "sync.Mutex": (8, 4), "sync.RWMutex": (24, 8),
             "atomic.Int64": (8, 8), "atomic.Int32": (4, 4), "atomic.Uint64": (8, 8), "atomic.Bool": (4, 4),
             "atomic.Pointer": (8, 8), "atomic.Value": (16, 8)}


def roundup_size(size: int) -> int:
    """What malloc hands out for ``size`` bytes (size class, or whole pages for large objects)."""
    if size <= MAX_SMALL_SIZE:
        for c in SIZE_CLASSES:
            if c >= size:
                return c
    return (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE


def allocation_matches(raw: int, observed: int) -> bool:
    """Whether an observed allocation size can be ``raw`` bytes after malloc's rounding (and a
    possible malloc header)."""
    return raw <= observed <= roundup_size(raw + MALLOC_HEADER)


def type_layout(typ: Node | None, pkg: PackageIndex, depth: int = 0) -> tuple[int, int] | None:
    """(size, alignment) of a Go type on a 64-bit platform, or None if it is not known here."""
    if typ is None or depth > MAX_DEPTH:
        return None
    t = typ.type
    if t in ("pointer_type", "map_type", "channel_type", "function_type"):
        return 8, 8
    if t in ("slice_type",):
        return 24, 8
    if t == "interface_type":
        return 16, 8
    if t == "parenthesized_type":
        inner = named(typ)
        return type_layout(inner[0], pkg, depth + 1) if inner else None
    if t == "type_identifier":
        name = text(typ)
        if name in _BASIC:
            size = _BASIC[name]
            return size, min(size, 8) if name not in ("string", "error", "any", "complex128") else 8
        under = pkg.types.get(name)
        return type_layout(under, pkg, depth + 1) if under is not None else None
    if t == "qualified_type":
        return _EXTERNAL.get(text(typ))
    if t == "generic_type":
        base = child(typ, "type")
        if base is not None and text(base) == "atomic.Pointer":
            return 8, 8
        return None
    if t == "array_type":
        length, elem = child(typ, "length"), child(typ, "element")
        elem_layout = type_layout(elem, pkg, depth + 1)
        if length is None or elem_layout is None or length.type != "int_literal":
            return None
        try:
            n = int(text(length).replace("_", ""), 0)
        except ValueError:
            return None
        return n * elem_layout[0], elem_layout[1]
    if t == "struct_type":
        return _struct_layout(typ, pkg, depth)
    return None


def _struct_layout(typ: Node, pkg: PackageIndex, depth: int) -> tuple[int, int] | None:
    offset, align = 0, 1
    for fd in gotree.walk(typ):
        if fd.type != "field_declaration":
            continue
        ft = child(fd, "type")
        got = type_layout(ft, pkg, depth + 1)
        if got is None:
            return None
        size, a = got
        for _ in range(max(1, len(fd.children_by_field_name("name")))):
            offset = _align(offset, a) + size
        align = max(align, a)
    return _align(offset, align), align


def _align(n: int, a: int) -> int:
    return (n + a - 1) // a * a


@dataclass(frozen=True, slots=True)
class MapLayout:
    key_size: int
    elem_size: int
    key_align: int = 8
    elem_align: int = 8

    @property
    def stored_key(self) -> int:
        return self.key_size if self.key_size <= MAX_INLINE_KV else 8

    @property
    def stored_elem(self) -> int:
        return self.elem_size if self.elem_size <= MAX_INLINE_KV else 8

    @property
    def bucket_size(self) -> int:
        """Classic bucket: 8 tophash bytes, 8 keys, 8 elems, an overflow pointer."""
        return SLOTS + SLOTS * self.stored_key + SLOTS * self.stored_elem + 8

    @property
    def group_size(self) -> int:
        """Swiss group: an 8-byte control word and 8 slots of {key, elem}."""
        k, e = self.stored_key, self.stored_elem
        ka = self.key_align if k == self.key_size else 8
        ea = self.elem_align if e == self.elem_size else 8
        slot_align = max(ka, ea, 1)
        slot = _align(_align(k, ea) + e, slot_align)
        return 8 + SLOTS * slot

    def classic_array_bytes(self, b: int) -> int:
        """Bytes of a bucket array with 2^b buckets (plus 2^(b-4) preallocated overflow buckets
        from b = 4), before malloc rounding."""
        n = 1 << b
        if b >= 4:
            n += 1 << (b - 4)
        return n * self.bucket_size

    def swiss_groups_bytes(self, capacity: int) -> int:
        """Bytes of one table's groups array for ``capacity`` slots."""
        return capacity // SLOTS * self.group_size


def map_layout(map_type: Node | None, pkg: PackageIndex) -> MapLayout | None:
    if map_type is None or map_type.type != "map_type":
        return None
    key = type_layout(child(map_type, "key"), pkg)
    elem = type_layout(child(map_type, "value"), pkg)
    if key is None or elem is None:
        return None
    return MapLayout(key[0], elem[0], key[1], elem[1])
