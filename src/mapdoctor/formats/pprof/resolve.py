"""Phase two of decoding: raw messages -> model objects, IDs and string indices resolved.

Mirrors google/pprof's ``postDecode``: every string index must be inside the string table and
every referenced mapping, function and location must exist; unlike pprof, a dangling mapping
ID is an error here rather than a silently missing mapping.

Samples dominate the cost of big profiles (tens of thousands of samples, millions of location
references), so they are built from the column view in bulk: location IDs are resolved a chunk
at a time by ``operator.itemgetter`` (a C loop), each Location object is built once and shared
by every sample that refers to it, and labels are decoded once per distinct encoding.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import accumulate, pairwise, repeat
from operator import attrgetter, itemgetter

from mapdoctor.errors import InputError
from mapdoctor.formats.gcpause import gc_paused
from mapdoctor.formats.pprof.wire import (
    WHAT,
    RawProfileMeta,
    RawValueType,
    SampleChunk,
    WireProfile,
    parse_label,
)
from mapdoctor.model.profile import Function, Line, Location, Mapping, Profile, Sample, ValueType

#: Location IDs resolved per bulk lookup: bounds the temporary lists of a huge profile.
STACK_CHUNK = 1 << 16
#: Distinct value tuples remembered for sharing.
MAX_SHARED_VALUES = 1 << 16

StringLabels = dict[str, tuple[str, ...]]
NumLabels = dict[str, tuple[int, ...]]
#: A decoded label: key, then the string value or None, then the number or None.
ResolvedLabel = tuple[str, str | None, int | None]


class Strings:
    """The string table, with range-checked lookups that name the offending field."""

    __slots__ = ("path", "table")

    def __init__(self, raw: Sequence[bytes], path: str) -> None:
        self.path = path
        if not raw:
            raise InputError(path, WHAT, "string table is missing")
        # Go writes symbol and file names byte for byte; undecodable bytes must not make
        # an otherwise good profile unreadable.
        self.table = [b.decode("utf-8", "replace") for b in raw]
        if self.table[0] != "":
            raise InputError(path, WHAT, f"string table entry 0 must be empty, found {self.table[0][:40]!r}")

    def get(self, index: int, owner: str, owner_id: int | str, field: str) -> str:
        table = self.table
        if 0 <= index < len(table):
            return table[index]
        who = f"{owner} {owner_id}" if owner_id != "" else owner
        raise InputError(
            self.path,
            WHAT,
            f"{who} {field} refers to string {index}, but the string table has {len(table)} entries",
        )


def resolve_profile(wire: WireProfile, path: str) -> Profile:
    """The model profile of ``wire``; InputError on a string index or ID that does not resolve."""
    raw = wire.message
    strings = Strings(raw.string_table, path)
    get = strings.get
    with gc_paused():
        functions = [
            Function(
                f.id,
                get(f.name, "function", f.id, "name"),
                get(f.system_name, "function", f.id, "system name"),
                get(f.filename, "function", f.id, "file name"),
                f.start_line,
            )
            for f in raw.function
        ]
        mappings = [
            Mapping(
                m.id,
                m.memory_start,
                m.memory_limit,
                m.file_offset,
                get(m.filename, "mapping", m.id, "file name"),
                get(m.build_id, "mapping", m.id, "build id"),
            )
            for m in raw.mapping
        ]
        locations = _locations(raw, functions, mappings, path)
        samples = _samples(wire, locations, strings)
        # The model has no field for it, but a bad index still marks a corrupt profile.
        get(raw.doc_url, "profile", "", "doc url")
        return Profile(
            sample_types=[_value_type(vt, strings, "sample type", i) for i, vt in enumerate(raw.sample_type)],
            samples=samples,
            locations=locations,
            functions=functions,
            mappings=mappings,
            period_type=(
                _value_type(raw.period_type, strings, "period type", "")
                if raw.HasField("period_type")
                else None
            ),
            period=raw.period,
            time_nanos=raw.time_nanos,
            duration_nanos=raw.duration_nanos,
            comments=[get(c, "comment", i, "text") for i, c in enumerate(raw.comment)],
            default_sample_type=get(raw.default_sample_type, "profile", "", "default sample type"),
            drop_frames=get(raw.drop_frames, "profile", "", "drop frames"),
            keep_frames=get(raw.keep_frames, "profile", "", "keep frames"),
        )


def _value_type(vt: RawValueType, strings: Strings, owner: str, owner_id: int | str) -> ValueType:
    return ValueType(
        strings.get(vt.type, owner, owner_id, "type"), strings.get(vt.unit, owner, owner_id, "unit")
    )


def _locations(
    raw: RawProfileMeta, functions: list[Function], mappings: list[Mapping], path: str
) -> list[Location]:
    func_by_id = {f.id: f for f in functions}
    map_by_id = {m.id: m for m in mappings}
    out: list[Location] = []
    for loc in raw.location:
        mapping = None
        if loc.mapping_id:
            mapping = map_by_id.get(loc.mapping_id)
            if mapping is None:
                raise InputError(
                    path, WHAT, f"location {loc.id} refers to mapping {loc.mapping_id} which does not exist"
                )
        lines = []
        for ln in loc.line:
            fn = func_by_id.get(ln.function_id)
            if fn is None:
                why = (
                    f"location {loc.id} refers to function {ln.function_id} which does not exist"
                    if ln.function_id
                    else f"location {loc.id} has a line without a function"
                )
                raise InputError(path, WHAT, why)
            lines.append(Line(fn, ln.line, ln.column))
        out.append(Location(loc.id, loc.address, mapping, tuple(lines)))
    return out


def _samples(wire: WireProfile, locations: list[Location], strings: Strings) -> list[Sample]:
    loc_by_id = {loc.id: loc for loc in locations}
    labels = _Labels(strings)
    values_seen: dict[tuple[int, ...], tuple[int, ...]] = {}
    out: list[Sample] = []
    for chunk in wire.chunks():
        out.extend(_chunk_samples(chunk, loc_by_id, labels, strings.path, values_seen))
        if len(values_seen) > MAX_SHARED_VALUES:
            values_seen.clear()  # mostly distinct values: sharing saves nothing
    return out


def _chunk_samples(chunk: SampleChunk, loc_by_id: dict[int, Location], labels: _Labels, path: str,
                   values_seen: dict[tuple[int, ...], tuple[int, ...]]) -> list[Sample]:
    raw_samples = list(chunk.samples)
    columns = chunk.columns
    # Per-sample lengths: one attribute read per sample and field, the only per-sample
    # reads of the full view; everything else comes from the columns.
    n_locs = list(map(len, map(attrgetter("location_id"), raw_samples)))
    n_values = list(map(len, map(attrgetter("value"), raw_samples)))
    n_labels = list(map(len, map(attrgetter("label"), raw_samples))) if columns.label else None
    del raw_samples
    if (len(columns.location_id), len(columns.value), len(columns.label)) != (
        sum(n_locs),
        sum(n_values),
        sum(n_labels or ()),
    ):
        raise InputError(path, WHAT, "samples are inconsistently encoded")
    stacks = _stacks(columns.location_id, n_locs, loc_by_id, path, chunk.first)
    # Equal value tuples are shared: counts and sizes repeat across samples.
    values = list(map(values_seen.setdefault, *repeat(_cut(tuple(columns.value), n_values), 2)))
    if n_labels is None:
        no_labels: StringLabels = {}
        no_num_labels: NumLabels = {}
        return list(map(Sample, stacks, values, repeat(no_labels), repeat(no_num_labels)))
    str_labels, num_labels = labels.per_sample(list(columns.label), n_labels)
    return list(map(Sample, stacks, values, str_labels, num_labels))


def _cut(flat: tuple[int, ...], counts: list[int]) -> list[tuple[int, ...]]:
    """``flat`` cut into consecutive pieces of the given lengths."""
    if counts and counts.count(counts[0]) == len(counts):
        k = counts[0]
        return [flat[i : i + k] for i in range(0, len(flat), k)] if k else [()] * len(counts)
    offsets = [0, *accumulate(counts)]
    return [flat[a:b] for a, b in pairwise(offsets)]


def _stacks(
    ids: Sequence[int], counts: list[int], loc_by_id: dict[int, Location], path: str, first: int = 0
) -> list[tuple[Location, ...]]:
    """Each sample's locations (leaf first), cut from the flat column of location IDs."""
    offsets = [0, *accumulate(counts)]
    n = len(counts)
    stacks: list[tuple[Location, ...]] = []
    start = 0
    while start < n:
        end = min(bisect_left(offsets, offsets[start] + STACK_CHUNK, start + 1, n + 1), n)
        base = offsets[start]
        chunk = ids[base : offsets[end]]
        try:
            resolved = _lookup(chunk, loc_by_id)
        except KeyError:
            raise _dangling_location(chunk, base, offsets, loc_by_id, path, first) from None
        stacks.extend(
            resolved[a - base : b - base]
            for a, b in zip(offsets[start:end], offsets[start + 1 : end + 1], strict=True)
        )
        start = end
    return stacks


def _lookup(ids: Sequence[int], loc_by_id: dict[int, Location]) -> tuple[Location, ...]:
    if len(ids) > 1:
        found: tuple[Location, ...] = itemgetter(*ids)(loc_by_id)
        return found
    return tuple(loc_by_id[i] for i in ids)


def _dangling_location(
    chunk: Sequence[int], base: int, offsets: list[int], loc_by_id: dict[int, Location], path: str, first: int
) -> InputError:
    k, missing = next((k, i) for k, i in enumerate(chunk) if i not in loc_by_id)
    sample = first + bisect_right(offsets, base + k) - 1
    return InputError(path, WHAT, f"sample {sample} refers to location {missing} which does not exist")


class _Labels:
    """Sample labels, decoded once per distinct encoding.

    Heap profiles label every sample with its allocation size, and a few sizes repeat across
    thousands of samples: samples whose labels are encoded identically share one pair of
    (read-only) label dicts.
    """

    __slots__ = ("cache", "strings")

    def __init__(self, strings: Strings) -> None:
        self.strings = strings
        self.cache: dict[bytes | tuple[bytes, ...], tuple[StringLabels, NumLabels]] = {}

    def per_sample(self, encoded: list[bytes], counts: list[int]) -> tuple[list[StringLabels], list[NumLabels]]:
        cache = self.cache
        str_out: list[StringLabels] = []
        num_out: list[NumLabels] = []
        at = 0
        for n in counts:
            key = encoded[at] if n == 1 else tuple(encoded[at : at + n])
            at += n
            pair = cache.get(key)
            if pair is None:
                pair = cache[key] = self._maps(encoded[at - n : at])
            str_out.append(pair[0])
            num_out.append(pair[1])
        return str_out, num_out

    def _maps(self, encoded: Sequence[bytes]) -> tuple[StringLabels, NumLabels]:
        str_acc: dict[str, list[str]] = {}
        num_acc: dict[str, list[int]] = {}
        for data in encoded:
            label = self._decode(data)
            if label is None:
                continue
            key, text, num = label
            if text is not None:
                str_acc.setdefault(key, []).append(text)
            elif num is not None:
                num_acc.setdefault(key, []).append(num)
        return (
            {k: tuple(v) for k, v in str_acc.items()},
            {k: tuple(v) for k, v in num_acc.items()},
        )

    def _decode(self, data: bytes) -> ResolvedLabel | None:
        # google/pprof: a non-zero string index makes a string label; otherwise a non-zero
        # number or unit makes a numeric label; a label with neither is dropped.
        raw = parse_label(data, self.strings.path)
        get = self.strings.get
        key = get(raw.key, "label", "", "key")
        get(raw.num_unit, "label", key, "unit")
        if raw.str:
            return key, get(raw.str, "label", key, "value"), None
        if raw.num or raw.num_unit:
            return key, None, raw.num
        return None
