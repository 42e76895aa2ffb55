"""The census pipeline: a target (process or core) -> every reachable map -> groups by path.

``open_target`` pairs the memory with the binary that describes it (and refuses a stripped
binary with no unstripped copy, another build, a non-Go program or an unsupported Go);
``take_census`` walks and aggregates; ``watch`` samples repeatedly and turns capacity changes
into growth events.
"""

from __future__ import annotations

import heapq
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mapdoctor.analysis.census_layout import Allocator, Layout, LayoutError, map_layout
from mapdoctor.analysis.census_maps import Budget, decode_map
from mapdoctor.analysis.census_walk import Limits, Walker
from mapdoctor.errors import InputError
from mapdoctor.formats.dwarf import GoTypes, load_types
from mapdoctor.formats.elf import GoBinary, go_minor, open_binary
from mapdoctor.formats.memory import CoreMemory, Memory, ProcessGone, ProcessMemory
from mapdoctor.model.census import Census, GrowthEvent, MapGroup, MapState, Sample

SUPPORTED_MINORS = range(21, 28)
#: Maps listed per path.
LARGEST_PER_PATH = 5


@dataclass
class Target:
    mem: Memory
    binary: GoBinary
    types: GoTypes
    bias: int
    #: Where the runtime's type descriptors start (``runtime.firstmoduledata.types``):
    #: DWARF's ``go_runtime_type`` attributes are offsets from it.
    types_base: int
    go_version: str
    source: str  # "pid" | "core"
    pid: int
    core: str

    @property
    def alloc(self) -> Allocator:
        minor = go_minor(self.go_version) or 99
        return Allocator(malloc_headers=minor >= 22)

    def close(self) -> None:
        self.mem.close()
        self.binary.close()


def _check_version(binary: GoBinary, label: str) -> str:
    version = binary.go_version
    minor = go_minor(version)
    if minor is None:
        raise InputError(label, "binary", f"cannot tell the Go version (build info says {version or 'nothing'!r})")
    if minor not in SUPPORTED_MINORS:
        raise InputError(label, "binary", f"{version} is not supported (the census reads Go 1.21 to 1.27)")
    return version


def _pair(running: GoBinary, given: GoBinary | None, label: str) -> GoBinary:
    """The binary whose DWARF describes ``running``: itself, or the unstripped copy given."""
    if given is None:
        if not running.has_dwarf:
            raise InputError(label, "binary", "the executable is stripped (no DWARF); pass the unstripped copy "
                             "of the same build with --binary")
        return running
    if running.build_id and given.build_id and running.build_id != given.build_id:
        raise InputError(str(given.path), "binary", f"another build than the target's (Go build ID "
                         f"{given.build_id[:24]}... vs {running.build_id[:24]}...)")
    return given


def open_target(*, pid: int | None = None, core: Path | None = None, binary: Path | None = None) -> Target:
    if pid is not None:
        mem = ProcessMemory(pid)
        try:
            label = f"pid {pid}"
            try:
                running = open_binary(mem.exe_path())
            except InputError as err:
                raise InputError(label, err.what, err.why) from None
            given = open_binary(binary) if binary is not None else None
            chosen = _pair(running, given, label)
            if chosen is not running:
                running.close()
            version = _check_version(chosen, label)
            types = load_types(chosen)
            bias = mem.load_bias(chosen)
            return Target(mem, chosen, types, bias, _types_base(mem, chosen, types, bias), version, "pid", pid, "")
        except BaseException:
            mem.close()
            raise
    if core is None or binary is None:
        raise InputError("census", "arguments", "give a PID, or --core CORE with --binary BIN")
    exe = open_binary(binary)
    try:
        version = _check_version(exe, str(binary))
        types = load_types(exe)
        cmem = CoreMemory(core, exe)
    except BaseException:
        exe.close()
        raise
    bias = cmem.load_bias(exe)
    return Target(cmem, exe, types, bias, _types_base(cmem, exe, types, bias), version, "core", cmem.pid, str(core))


def _types_base(mem: Memory, binary: GoBinary, types: GoTypes, bias: int) -> int:
    var = next((v for v in types.variables if v.name == "runtime.firstmoduledata"), None)
    if var is not None:
        f = types.member(var.type, "types")
        if f is not None:
            raw = mem.read(var.address + bias + f.offset, 8)
            if raw is not None and int.from_bytes(raw, "little"):
                return int.from_bytes(raw, "little")
    sec = binary.elf.get_section_by_name(".rodata")
    return (sec["sh_addr"] + bias) if sec is not None else 0


def aggregate(maps: list[MapState]) -> list[MapGroup]:
    """Maps grouped by (path, type), largest total bytes first."""
    by_key: dict[tuple[str, str], list[MapState]] = {}
    for m in maps:
        by_key.setdefault((m.path, m.type), []).append(m)
    groups: list[MapGroup] = []
    for (path, type_name), ms in by_key.items():
        g = MapGroup(path=path, type=type_name, impl=ms[0].impl, count=len(ms), bucket_bytes=ms[0].bucket_bytes,
                     len=sum(m.len for m in ms), capacity=sum(m.capacity for m in ms),
                     bytes=sum(m.bytes for m in ms), growing=sum(m.growing for m in ms),
                     overflow=sum(m.overflow for m in ms), tombstones=sum(m.tombstones for m in ms),
                     waste_bytes=sum(max(0, m.bytes - m.fresh_bytes) for m in ms),
                     fresh_bytes=sum(m.fresh_bytes for m in ms), unstable=sum(not m.stable for m in ms))
        g.largest = heapq.nsmallest(LARGEST_PER_PATH, ms, key=lambda m: (-m.bytes, m.address))
        lens = sorted([m.len for m in ms])
        g.len_quantiles = (lens[0], lens[len(lens) // 2], lens[min(len(lens) - 1, int(len(lens) * 0.9))], lens[-1])
        groups.append(g)
    groups.sort(key=lambda g: (-g.bytes, g.path))
    return groups


def _impl(maps: list[MapState], types: GoTypes) -> str:
    impls = {m.impl for m in maps}
    if not impls:
        if types.named("internal/runtime/maps.Map") is not None and types.named("runtime.hmap") is None:
            return "swiss"
        return "classic" if types.named("runtime.hmap") is not None else "none"
    return impls.pop() if len(impls) == 1 else "mixed"


def take_census(target: Target, limits: Limits, progress: Callable[[int, int], None] | None = None) -> Census:
    start = time.monotonic()
    bytes_before = getattr(target.mem, "bytes_read", 0)
    walker = Walker(target.mem, target.types, target.alloc, target.bias, limits, progress, target.types_base)
    notes: list[str] = []
    partial = False
    try:
        result = walker.run()
        maps, roots, objects = result.maps, result.roots, result.objects
        notes.extend(result.notes)
        partial = result.partial
    except ProcessGone:
        maps, roots, objects = walker.maps, len(walker.roots()), walker.objects
        partial = True
        notes.append("partial: the process exited during the census; maps read before that are listed")
    unstable = sum(not m.stable for m in maps)
    if unstable:
        notes.append(f"{unstable} maps changed on every read (written concurrently); their last reading is shown")
    estimated = sum(m.estimated for m in maps)
    if estimated:
        notes.append(f"{estimated} maps exceeded the read budget (--max-read): their overflow counts and bytes "
                     "come from the header alone")
    if target.source == "pid":
        notes.append("read live without stopping the process: each map is consistent in itself, "
                     "not all maps at one instant (use --freeze for a point in time)")
    return Census(
        source=target.source, pid=target.pid, core=target.core, binary=str(target.binary.path),
        go_version=target.go_version, impl=_impl(maps, target.types), dwarf_version=target.types.dwarf_version,
        maps=maps, groups=aggregate(maps), roots=roots, objects=objects, elapsed_s=time.monotonic() - start,
        bytes_read=getattr(target.mem, "bytes_read", 0) - bytes_before, notes=notes, partial=partial,
        limits={"max_depth": limits.max_depth, "max_maps": limits.max_maps, "max_objects": limits.max_objects,
                "max_read_bytes": limits.max_read_bytes})


#: How many maps a re-read does between looks at the clock (a clock read costs as much as a
#: small map's header does not: checking every map made the check the main cost of a sample).
_CLOCK_EVERY = 32

#: A re-read found the map's package-level variable nil: the map is gone from the census.
GONE = None


def reread_some(target: Target, maps: Sequence[MapState], order: Iterable[int],
                deadline: float | None = None) -> list[tuple[int, MapState | None]]:
    """Re-read the headers of ``maps[i]`` for ``i`` in ``order`` until ``deadline``.

    Cheap by design (no bucket or group arrays): len, capacity and growth state are new;
    bytes and overflow counts stay those of the last full walk. Returns (index, new state)
    for each map reached, in order; the state is :data:`GONE` when the package-level
    variable holding the map is nil now. Only the maps reached cost anything, so a sample
    of a process with 100,000 maps pays for the few thousand its budget allows."""
    layouts: dict[str, Layout | None] = {}
    out: list[tuple[int, MapState | None]] = []
    nothing = Budget(0)
    for k, i in enumerate(order):
        if deadline is not None and k % _CLOCK_EVERY == 0 and k and time.monotonic() > deadline:
            break
        m = maps[i]
        if m.type not in layouts:
            off = target.types.by_name.get(m.type)
            try:
                layouts[m.type] = None if off is None else map_layout(target.types, target.types.types[off])
            except LayoutError:
                layouts[m.type] = None
        lay = layouts[m.type]
        addr = m.address
        if m.root:
            raw = target.mem.read(m.root, 8)
            addr = int.from_bytes(raw, "little") if raw is not None else addr
            if not addr:
                out.append((i, GONE))
                continue
        got = None if lay is None else decode_map(target.mem, addr, lay, target.alloc, path=m.path,
                                                   type_name=m.type, want_values=False, budget=nothing)
        if got is None:
            out.append((i, m))  # unreadable now (torn or freed): keep the last reading
            continue
        s = got.state
        s.root = m.root
        same_arrays = addr == m.address and s.capacity == m.capacity and s.old_capacity == m.old_capacity
        if s.impl == "classic" and same_arrays:
            s.bytes, s.overflow = m.bytes, m.overflow
        s.estimated = m.estimated
        out.append((i, s))
    return out


def reread(target: Target, maps: list[MapState], deadline: float | None = None) -> tuple[list[MapState], int]:
    """The same maps, their headers read again (see :func:`reread_some`); maps not reached
    before ``deadline`` keep their previous state, maps whose variable is nil now are
    dropped. Returns (states, how many were re-read)."""
    got = dict(reread_some(target, maps, range(len(maps)), deadline))
    out = [s for i, m in enumerate(maps) if (s := got.get(i, m)) is not None]
    return out, sum(1 for i, s in got.items() if s is not None and s is not maps[i])


def sample_of(maps: list[MapState], t: float, partial: bool = False) -> Sample:
    return Sample(t=t, per_path=_per_path(maps), partial=partial)


def _per_path(maps: Iterable[MapState]) -> dict[str, tuple[int, int, int]]:
    per: dict[str, tuple[int, int, int]] = {}
    for m in maps:
        n, c, g = per.get(m.path, (0, 0, 0))
        per[m.path] = (n + m.len, c + m.capacity, g + m.growing)
    return per


def growth_events(prev: Sample, cur: Sample) -> list[GrowthEvent]:
    out = []
    for path, (_, cap, _) in cur.per_path.items():
        before = prev.per_path.get(path)
        if before is None or before[1] <= 0 or cap <= before[1]:
            continue
        doublings = max(1, round(math.log2(cap / before[1])))
        out.append(GrowthEvent(cur.t, path, before[1], cap, doublings))
    return out


#: Share of each --watch interval spent re-reading headers, and (on average) walking again.
REREAD_SHARE = 0.02
WALK_SHARE = 0.02
#: The largest maps are re-read at every sample; the others in rotation, as the budget allows.
ALWAYS_REREAD = 1000


def _by_size(maps: list[MapState]) -> list[int]:
    return sorted(range(len(maps)), key=lambda i: -maps[i].bytes)


def _rotation(order: list[int], head: int, cursor: int) -> Iterator[int]:
    """The ``head`` largest maps, then the others from ``cursor`` on, wrapping round once."""
    yield from order[:head]
    yield from order[head + cursor:]
    yield from order[head:head + cursor]


def _shift(per: dict[str, tuple[int, int, int]], m: MapState, sign: int) -> None:
    n, c, g = per.get(m.path, (0, 0, 0))
    per[m.path] = (n + sign * m.len, c + sign * m.capacity, g + sign * m.growing)


def watch(target: Target, limits: Limits, interval_s: float, duration_s: float,
          on_sample: Callable[[Census, Sample], None] | None = None, rediscover_every: int = 10,
          clock: Callable[[], float] = time.monotonic) -> Census:
    """Samples every ``interval_s`` for ``duration_s``, costing the target as little as possible.

    The first sample is a full walk. When that walk took at most a quarter of the interval,
    every sample is a full walk (new maps, and maps replaced deep inside structures, are seen
    at once). Otherwise a sample re-reads the known maps' headers (following package-level
    variables to the map they hold now) for at most ``REREAD_SHARE`` of the interval: the
    ``ALWAYS_REREAD`` largest maps every time, the rest in rotation (a map not reached keeps its
    last reading); and a full walk comes back every ``rediscover_every`` samples, or less often
    when walks are long, so that they take about ``WALK_SHARE`` of the time."""
    start = clock()
    census = take_census(target, limits)
    walk_s = census.elapsed_s
    if walk_s * 4 <= interval_s:
        rediscover_every = 1
    else:
        rediscover_every = max(rediscover_every, math.ceil(walk_s / (WALK_SHARE * interval_s)))
    census.samples.append(sample_of(census.maps, 0.0, census.partial))
    if on_sample is not None:
        on_sample(census, census.samples[-1])
    order = _by_size(census.maps)
    cursor = 0
    # Per-path sums kept up to date by the maps each sample re-reads, so that a sample costs
    # what it re-reads, not a pass over every map known.
    per = dict(census.samples[-1].per_path)
    n = 1
    while True:
        next_at = start + n * interval_s
        if next_at - start > duration_s + 1e-9:
            break
        delay = next_at - clock()
        if delay > 0:
            time.sleep(delay)
        t = clock() - start
        maps = census.maps
        partial = False
        try:
            if n % rediscover_every == 0:
                fresh = take_census(target, limits)
                maps, partial = fresh.maps, fresh.partial
                order, cursor = _by_size(maps), 0
                per = _per_path(maps)
            else:
                head = min(ALWAYS_REREAD, len(order))
                rest = len(order) - head
                got = reread_some(target, maps, _rotation(order, head, cursor),
                                  clock() + REREAD_SHARE * interval_s)
                maps = list(maps)
                gone = False
                for i, st in got:
                    old = maps[i]
                    if st is GONE:
                        gone = True
                        continue
                    if st is not old:
                        _shift(per, old, -1)
                        _shift(per, st, 1)
                        maps[i] = st
                if rest:
                    cursor = (cursor + max(0, len(got) - head)) % rest
                if gone:  # a variable set to nil: its map leaves the census
                    dropped = {i for i, st in got if st is GONE}
                    maps = [m for i, m in enumerate(maps) if i not in dropped]
                    order, cursor = _by_size(maps), 0
                    per = _per_path(maps)
        except ProcessGone:
            maps, partial = [], True
        if (isinstance(target.mem, ProcessMemory) and not target.mem.alive()) or (partial and not maps):
            census.partial = True
            census.notes.append(f"partial: the process exited {t:.1f}s into the watch; samples end there")
            break
        census.maps = maps
        census.partial = census.partial or partial
        sample = Sample(t=t, per_path=dict(per))
        census.events.extend(growth_events(census.samples[-1], sample))
        census.samples.append(sample)
        if on_sample is not None:
            on_sample(census, sample)
        n += 1
    census.groups = aggregate(census.maps)
    if rediscover_every > 1:
        census.notes.append(f"--watch: each sample re-read map headers for up to {REREAD_SHARE:.0%} of the "
                            f"interval (the {ALWAYS_REREAD} largest maps every time, the others in turn); "
                            f"a full walk every {rediscover_every} samples")
    census.elapsed_s = clock() - start
    return census


def pid_exists(pid: int) -> bool:
    return os.path.isdir(f"/proc/{pid}")
