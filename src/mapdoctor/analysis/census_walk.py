"""Which maps exist: reachability from package-level variables, typed by DWARF.

Breadth-first from every package-level variable (the runtime's own excluded), through
pointers, struct fields, arrays, slices, interfaces whose dynamic type the binary describes,
and the values of maps. Each map is named by the first (shortest) path that reaches it:
``main.sessions.byID``, ``main.cache[*].attrs``, ``main.store.(*main.memStore).data``; a map
reached twice is counted once. The walk only descends into types that can lead to a map
(computed once per binary), and stops at a depth, a number of maps, a number of visited values
and a deadline: whichever is hit makes the census partial, and says so.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from mapdoctor.analysis.census_layout import Allocator, Layout, LayoutError, map_layout
from mapdoctor.analysis.census_maps import Budget, decode_map
from mapdoctor.formats.dwarf import GoType, GoTypes, is_runtime_variable
from mapdoctor.formats.memory import Memory, u64
from mapdoctor.model.census import MapState

#: Longest slice or array walked element by element (the rest are skipped, and it is said).
MAX_ELEMS = 1 << 20
POINTER_SHAPED = ("ptr", "map", "chan", "func", "unsafe_ptr")


@dataclass(frozen=True)
class Limits:
    max_depth: int = 32
    max_maps: int = 1_000_000
    max_objects: int = 5_000_000
    max_read_bytes: int = 8 << 30
    deadline_s: float = 120.0
    packages: tuple[str, ...] = ()  # only variables of these packages (prefixes); empty: all


@dataclass
class WalkResult:
    maps: list[MapState]
    roots: int
    objects: int
    notes: list[str] = field(default_factory=list)
    partial: bool = False


def leads_to_map(types: GoTypes) -> set[int]:
    """DIE offsets of the types whose values can (transitively) hold a map.

    Linear in the number of types: a breadth-first search from maps and interfaces along the
    reversed "contains" edges (pointer/array/slice element, struct field, typedef target)."""
    parents: dict[int, list[int]] = {}
    yes: set[int] = set()
    for off, raw in types.types.items():
        if raw.kind in ("map", "iface", "eface"):
            yes.add(off)
            continue
        if raw.kind in ("ptr", "array", "slice", "typedef"):
            children = [raw.elem] if raw.elem is not None else []
        elif raw.kind == "struct":
            children = [f.type for f in raw.fields]
        else:
            continue
        for c in children:
            parents.setdefault(c, []).append(off)
    todo = list(yes)
    while todo:
        off = todo.pop()
        for p in parents.get(off, ()):
            if p not in yes:
                yes.add(p)
                todo.append(p)
    return yes


def _direct_iface(types: GoTypes, t: GoType, depth: int = 0) -> bool:
    """Whether values of ``t`` are stored in an interface's data word itself (``IsDirectIface``)."""
    if depth > 8:
        return False
    if t.kind in POINTER_SHAPED:
        return True
    if t.kind == "array" and t.count == 1 and t.elem is not None and t.elem in types.types:
        return _direct_iface(types, types.resolve(t.elem), depth + 1)
    if t.kind == "struct" and len(t.fields) == 1 and t.fields[0].type in types.types:
        return _direct_iface(types, types.resolve(t.fields[0].type), depth + 1)
    return False


class Walker:
    def __init__(self, mem: Memory, types: GoTypes, alloc: Allocator, bias: int, limits: Limits,
                 progress: Callable[[int, int], None] | None = None, types_base: int = 0) -> None:
        self.types_base = types_base
        self.mem = mem
        self.types = types
        self.alloc = alloc
        self.bias = bias
        self.limits = limits
        self.progress = progress
        self.leads = leads_to_map(types)
        #: Every type with typedefs looked through, once (the walk asks millions of times).
        self.res: dict[int, GoType] = {off: types.resolve(off) for off in types.types}
        self.layouts: dict[int, Layout | None] = {}
        self.seen_objects: set[tuple[int, int]] = set()
        self.seen_maps: set[int] = set()
        self.queue: deque[tuple[int, int, str, int]] = deque()
        self.root_addrs: dict[str, int] = {}
        self.maps: list[MapState] = []
        self.objects = 0
        self.notes: list[str] = []
        self.partial = False
        self.budget = Budget(limits.max_read_bytes)
        self.truncated_elems = 0
        self.unknown_dynamic = 0
        self.unreadable = 0
        self.bad_layouts: set[str] = set()

    # -- roots ------------------------------------------------------------------------------
    def roots(self) -> list[tuple[str, int, int]]:
        out = []
        for v in self.types.variables:
            if is_runtime_variable(v.name):
                continue
            if self.limits.packages and not v.name.startswith(self.limits.packages):
                continue
            if v.type in self.leads:
                out.append((v.name, v.address + self.bias, v.type))
        return out

    def run(self) -> WalkResult:
        start = time.monotonic()
        roots = self.roots()
        for name, addr, type_off in roots:
            self.queue.append((addr, type_off, name, 0))
            self.root_addrs[name] = addr
        stop_reason = ""
        last_progress = start
        while self.queue:
            if len(self.maps) >= self.limits.max_maps:
                stop_reason = f"stopped at --max-maps {self.limits.max_maps}"
                break
            if self.objects >= self.limits.max_objects:
                stop_reason = f"stopped after {self.limits.max_objects} values (--max-objects)"
                break
            now = time.monotonic()
            if now - start > self.limits.deadline_s:
                stop_reason = f"stopped at the {self.limits.deadline_s:g}s deadline (--timeout)"
                break
            if self.progress is not None and now - last_progress > 0.5:
                self.progress(len(self.maps), self.objects)
                last_progress = now
            addr, type_off, path, depth = self.queue.popleft()
            t = self.res[type_off]
            if t.size <= 0 or t.size > (64 << 20):
                continue
            data = self.mem.read(addr, t.size)
            self.objects += 1
            if data is None:
                self.unreadable += 1
                continue
            self._visit(data, 0, t, path, depth)
        if stop_reason:
            self.partial = True
            self.notes.append(f"partial: {stop_reason}; {len(self.queue)} values not visited")
        if self.truncated_elems:
            self.notes.append(f"{self.truncated_elems} slices or arrays longer than {MAX_ELEMS} elements "
                              "were walked only up to that length")
        if self.unknown_dynamic:
            self.notes.append(f"{self.unknown_dynamic} interface values hold a type the binary's DWARF "
                              "does not describe; not followed")
        if self.unreadable:
            self.notes.append(f"{self.unreadable} pointers led to unreadable memory (freed or changing); skipped")
        for name in sorted(self.bad_layouts):
            self.notes.append(f"map type {name}: unexpected runtime layout; its maps are not decoded")
        return WalkResult(self.maps, len(roots), self.objects, self.notes, self.partial)

    # -- values -----------------------------------------------------------------------------
    def _push(self, addr: int, type_off: int, path: str, depth: int) -> None:
        if not addr or depth > self.limits.max_depth:
            return
        key = (addr, type_off)
        if key in self.seen_objects:
            return
        self.seen_objects.add(key)
        self.queue.append((addr, type_off, path, depth))

    def _visit(self, data: bytes, off: int, t: GoType, path: str, depth: int) -> None:
        kind = t.kind
        if kind == "struct":
            for f in t.fields:
                if f.type in self.leads:
                    ft = self.res[f.type]
                    sep = "" if f.name.startswith("(") else "."
                    self._visit(data, off + f.offset, ft, f"{path}{sep}{f.name}", depth)
        elif kind == "ptr":
            if t.elem is not None and t.elem in self.leads:
                self._push(u64(data, off), t.elem, path, depth + 1)
        elif kind == "map":
            self._map(u64(data, off), t, path, depth)
        elif kind == "array":
            if t.elem is None or t.elem not in self.leads or t.count <= 0:
                return
            et = self.res[t.elem]
            n = min(t.count, MAX_ELEMS)
            if n < t.count:
                self.truncated_elems += 1
            for i in range(n):
                self._visit(data, off + i * et.size, et, path + "[*]", depth)
        elif kind == "slice":
            if t.elem is None or t.elem not in self.leads:
                return
            ptr, length = u64(data, off), u64(data, off + 8)
            if not ptr or not length:
                return
            et = self.res[t.elem]
            if et.size <= 0:
                return
            n = min(length, MAX_ELEMS, (64 << 20) // et.size)
            if n < length:
                self.truncated_elems += 1
            if depth + 1 > self.limits.max_depth or (ptr, t.off) in self.seen_objects:
                return
            self.seen_objects.add((ptr, t.off))
            body = self.mem.read(ptr, n * et.size)
            self.objects += 1
            if body is None:
                self.unreadable += 1
                return
            for i in range(n):
                self._visit(body, i * et.size, et, path + "[*]", depth + 1)
        elif kind in ("iface", "eface"):
            self._iface(data, off, kind, path, depth)

    def _iface(self, data: bytes, off: int, kind: str, path: str, depth: int) -> None:
        word0, value = u64(data, off), u64(data, off + 8)
        if not word0 or not value:
            return
        if kind == "iface":
            itab = self.mem.read(word0 + 8, 8)
            if itab is None:
                self.unreadable += 1
                return
            rtype = u64(itab)
        else:
            rtype = word0
        dyn_off = self.types.by_runtime_type.get(rtype - self.types_base)
        if dyn_off is None:
            self.unknown_dynamic += 1
            return
        if dyn_off not in self.leads:
            return
        dyn = self.res[dyn_off]
        label = f"{path}.({self.types.types[dyn_off].name or dyn.name})"
        if _direct_iface(self.types, dyn):
            self._visit(value.to_bytes(8, "little") + bytes(max(0, dyn.size - 8)), 0, dyn, label, depth)
        else:
            self._push(value, dyn_off, label, depth + 1)

    def _layout(self, t: GoType) -> Layout | None:
        if t.off not in self.layouts:
            try:
                self.layouts[t.off] = map_layout(self.types, t)
            except LayoutError:
                self.layouts[t.off] = None
                self.bad_layouts.add(t.name)
        return self.layouts[t.off]

    def _map(self, addr: int, t: GoType, path: str, depth: int) -> None:
        if not addr or addr in self.seen_maps or len(self.maps) >= self.limits.max_maps:
            return
        self.seen_maps.add(addr)
        lay = self._layout(t)
        if lay is None:
            return
        want = t.elem is not None and t.elem in self.leads and depth + 1 <= self.limits.max_depth
        got = decode_map(self.mem, addr, lay, self.alloc, path=path, type_name=t.name, want_values=want,
                         budget=self.budget)
        self.objects += 1
        if got is None:
            self.unreadable += 1
            return
        if depth == 0 and path in self.root_addrs:
            got.state.root = self.root_addrs[path]
        self.maps.append(got.state)
        if want and t.elem is not None and got.values:
            et = self.res[t.elem]
            child = path + "[*]"
            for raw in got.values:
                if self.objects >= self.limits.max_objects:
                    self.partial = True
                    break
                self._visit(raw, 0, et, child, depth + 1)
