"""Go types and package-level variables from a binary's DWARF (Go 1.21-1.27, DWARF 4 and 5).

The Go linker (``cmd/link/internal/ld/dwarf.go``) writes every type once, with Go's own
attributes beside the standard ones: ``DW_AT_go_kind`` (a ``reflect.Kind``), ``go_key`` and
``go_elem`` for maps and slices, and ``go_runtime_type``, the address of the runtime type
descriptor, which is what an interface value's type word points at. For each map type it
synthesises the runtime's view of that map: ``hash<K,V>`` and ``bucket<K,V>`` for classic
maps, ``map<K,V>``, ``table<K,V>`` and the compiler's group type for Swiss tables. This
module turns all of that into a small, flat table of :class:`GoType` keyed by DIE offset;
nothing here reads process memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from elftools.common.exceptions import DWARFError, ELFError

from mapdoctor.errors import InputError
from mapdoctor.formats.elf import GoBinary

DW_AT_go_kind = 0x2900
DW_AT_go_key = 0x2901
DW_AT_go_elem = 0x2902
DW_AT_go_runtime_type = 0x2904

# reflect.Kind values the census cares about.
KIND_ARRAY, KIND_CHAN, KIND_FUNC, KIND_INTERFACE, KIND_MAP = 17, 18, 19, 20, 21
KIND_PTR, KIND_SLICE, KIND_STRING, KIND_STRUCT, KIND_UNSAFE_PTR = 22, 23, 24, 25, 26

#: Packages whose variables are the runtime's own bookkeeping, not the program's data.
RUNTIME_PACKAGES = ("runtime.", "internal/", "runtime/")


@dataclass(frozen=True)
class Field:
    name: str
    offset: int
    type: int  # DIE offset of the field's type


@dataclass
class GoType:
    """One type. ``kind`` is one of: scalar, ptr, unsafe_ptr, struct, array, slice, string,
    iface, eface, map, chan, func, typedef."""

    off: int
    name: str
    kind: str
    size: int
    fields: tuple[Field, ...] = ()
    elem: int | None = None  # ptr/array/slice/typedef target; map value type
    key: int | None = None  # map key type
    count: int = 0  # array length
    runtime_type: int = 0  # address of the runtime type descriptor (0: none)
    #: For maps: the DIE offset of the synthesised header struct (hash<K,V> or map<K,V>).
    header: int | None = None


@dataclass(frozen=True)
class GlobalVar:
    name: str
    address: int
    type: int


@dataclass
class GoTypes:
    """Every type and package-level variable of one binary."""

    types: dict[int, GoType]
    variables: list[GlobalVar]
    by_runtime_type: dict[int, int] = field(default_factory=dict)
    by_name: dict[str, int] = field(default_factory=dict)
    dwarf_version: int = 0

    def resolve(self, off: int) -> GoType:
        """The type at ``off`` with typedefs (other than maps and interfaces) looked through."""
        t = self.types[off]
        for _ in range(16):
            if t.kind != "typedef" or t.elem is None or t.elem not in self.types:
                return t
            t = self.types[t.elem]
        return t

    def member(self, struct_off: int, name: str) -> Field | None:
        for f in self.resolve(struct_off).fields:
            if f.name == name:
                return f
        return None

    def named(self, name: str) -> GoType | None:
        off = self.by_name.get(name)
        return None if off is None else self.types[off]


def _ref(die: Any, attr: str | int) -> int | None:
    a = die.attributes.get(attr)
    if a is None:
        return None
    value: int = a.value
    if a.form in ("DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata"):
        cu_offset: int = die.cu.cu_offset
        return value + cu_offset
    return value


def _int(die: Any, attr: str | int, default: int = 0) -> int:
    a = die.attributes.get(attr)
    if a is None or not isinstance(a.value, int):
        return default
    value: int = a.value
    return value


def _name(die: Any) -> str:
    a = die.attributes.get("DW_AT_name")
    if a is None:
        return ""
    raw = a.value
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _location(die: Any) -> int | None:
    a = die.attributes.get("DW_AT_location")
    if a is None or not isinstance(a.value, list):
        return None
    block: list[int] = a.value
    if len(block) == 9 and block[0] == 0x03:  # DW_OP_addr <8 bytes>
        return int.from_bytes(bytes(block[1:]), "little")
    return None


def _struct_kind(go_kind: int) -> str:
    return {KIND_SLICE: "slice", KIND_STRING: "string"}.get(go_kind, "struct")


def _type_of(die: Any) -> GoType | None:
    tag = die.tag
    off: int = die.offset
    name = _name(die)
    go_kind = _int(die, DW_AT_go_kind)
    rtype = _int(die, DW_AT_go_runtime_type)
    size = _int(die, "DW_AT_byte_size")
    if tag == "DW_TAG_base_type":
        return GoType(off, name, "scalar", size, runtime_type=rtype)
    if tag == "DW_TAG_pointer_type":
        target = _ref(die, "DW_AT_type")
        kind = "ptr" if target is not None else "unsafe_ptr"
        return GoType(off, name, kind, 8, elem=target, runtime_type=rtype)
    if tag == "DW_TAG_structure_type":
        fields = tuple(
            Field(_name(c), _int(c, "DW_AT_data_member_location"), _ref(c, "DW_AT_type") or 0)
            for c in die.iter_children() if c.tag == "DW_TAG_member")
        elem = _ref(die, DW_AT_go_elem) if go_kind == KIND_SLICE else None
        return GoType(off, name, _struct_kind(go_kind), size, fields=fields, elem=elem, runtime_type=rtype)
    if tag == "DW_TAG_array_type":
        count = 0
        for c in die.iter_children():
            if c.tag == "DW_TAG_subrange_type":
                if "DW_AT_count" in c.attributes:
                    count = _int(c, "DW_AT_count")
                elif "DW_AT_upper_bound" in c.attributes:
                    count = _int(c, "DW_AT_upper_bound") + 1
        return GoType(off, name, "array", size, elem=_ref(die, "DW_AT_type"), count=count, runtime_type=rtype)
    if tag == "DW_TAG_typedef":
        target = _ref(die, "DW_AT_type")
        if go_kind == KIND_MAP:
            return GoType(off, name, "map", 8, elem=_ref(die, DW_AT_go_elem), key=_ref(die, DW_AT_go_key),
                          header=target, runtime_type=rtype)
        if go_kind == KIND_INTERFACE:
            return GoType(off, name, "iface", 16, elem=target, runtime_type=rtype)  # refined below
        if go_kind == KIND_CHAN:
            return GoType(off, name, "chan", 8, runtime_type=rtype)
        return GoType(off, name, "typedef", 0, elem=target, runtime_type=rtype)
    if tag == "DW_TAG_subroutine_type":
        return GoType(off, name, "func", 8, runtime_type=rtype)
    return None


def _parse(binary: GoBinary) -> GoTypes:
    where = str(binary.path)
    types: dict[int, GoType] = {}
    variables: list[GlobalVar] = []
    version = 0
    try:
        dwarf = binary.elf.get_dwarf_info(relocate_dwarf_sections=False)
        for cu in dwarf.iter_CUs():
            version = version or cu.header["version"]
            top = cu.get_top_DIE()
            for die in top.iter_children():
                if die.tag == "DW_TAG_variable":
                    addr = _location(die)
                    type_off = _ref(die, "DW_AT_type")
                    name = _name(die)
                    if addr is not None and type_off is not None and name:
                        variables.append(GlobalVar(name, addr, type_off))
                    continue
                t = _type_of(die)
                if t is not None:
                    types[t.off] = t
    except (DWARFError, ELFError, KeyError, ValueError, IndexError) as exc:
        raise InputError(where, "dwarf", f"unreadable debug information ({exc})") from None
    if not types:
        raise InputError(where, "dwarf", "no Go types in the debug information")
    return GoTypes(types=types, variables=variables, dwarf_version=version)


def _finish(result: GoTypes) -> GoTypes:
    types = result.types
    for t in types.values():
        if t.runtime_type:
            result.by_runtime_type.setdefault(t.runtime_type, t.off)
        if t.name:
            result.by_name.setdefault(t.name, t.off)
    # The type word of an interface points at the descriptor of the dynamic type; prefer the
    # typedef for named types (its name is the Go name) over the underlying struct.
    for t in types.values():
        if t.runtime_type and t.kind == "typedef":
            result.by_runtime_type[t.runtime_type] = t.off
    for t in types.values():
        if t.kind == "iface" and t.elem is not None and t.elem in types:
            under = result.resolve(t.elem)
            if under.fields and under.fields[0].name == "_type":
                t.kind = "eface"
    return result


# -- the per-binary cache -------------------------------------------------------------------
# Parsing a Go binary's DWARF with pyelftools costs seconds (2-3 s for a 10 MB service, more on a
# busy machine); what the census keeps of it is small. It is cached as JSON (never pickle: the
# cache is data, not code) under the SHA-256 of the binary's contents, so a rebuilt binary is
# never confused with the old one.
CACHE_FORMAT = 1


def cache_dir() -> Path:
    base = os.environ.get("MAPDOCTOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mapdoctor")
    return Path(base) / "dwarf"


def _digest(binary: GoBinary) -> str:
    h = hashlib.sha256()
    binary.handle.seek(0)
    for block in iter(lambda: binary.handle.read(1 << 20), b""):
        h.update(block)
    return h.hexdigest()


def _to_json(t: GoTypes) -> dict[str, Any]:
    return {"format": CACHE_FORMAT, "dwarf_version": t.dwarf_version,
            "types": [[x.off, x.name, x.kind, x.size, [[f.name, f.offset, f.type] for f in x.fields], x.elem, x.key,
                       x.count, x.runtime_type, x.header] for x in t.types.values()],
            "variables": [[v.name, v.address, v.type] for v in t.variables]}


def _from_json(doc: dict[str, Any]) -> GoTypes | None:
    if doc.get("format") != CACHE_FORMAT:
        return None
    types = {}
    for off, name, kind, size, fields, elem, key, count, rtype, header in doc["types"]:
        types[off] = GoType(off, name, kind, size, tuple(Field(*f) for f in fields), elem, key, count, rtype, header)
    variables = [GlobalVar(*v) for v in doc["variables"]]
    return GoTypes(types=types, variables=variables, dwarf_version=doc["dwarf_version"])


def load_types(binary: GoBinary, *, use_cache: bool = True) -> GoTypes:
    """Read ``binary``'s DWARF (or its cached digest). A binary without DWARF is an
    :class:`InputError` saying how to fix it."""
    if not binary.has_dwarf:
        raise InputError(str(binary.path), "binary", "no DWARF debug information (stripped, or built with "
                         "-ldflags=-w); pass the unstripped copy of the same build with --binary")
    path: Path | None = None
    if use_cache:
        path = cache_dir() / f"{_digest(binary)}.json"
        try:
            cached = _from_json(json.loads(path.read_text()))
        except (OSError, ValueError, KeyError, TypeError):
            cached = None
        if cached is not None:
            return _finish(cached)
    parsed = _parse(binary)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(_to_json(parsed), separators=(",", ":")))
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache only costs speed
    return _finish(parsed)


def package_of(name: str) -> str:
    """``"main.sessions"`` -> ``"main"``; ``"example.com/a/b.x"`` -> ``"example.com/a/b"``."""
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    return name[:dot] if dot > 0 else name


def is_runtime_variable(name: str) -> bool:
    return name.startswith(RUNTIME_PACKAGES)
