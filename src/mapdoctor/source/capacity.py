"""How big did the map filled at a line get? Read from the allocation sizes at that line.

Allocation profiles keep one record per (stack, size), and the stack's runtime frames are
stripped, so the bucket arrays (classic maps) and table group arrays (Swiss maps) allocated
while a map grows are charged to the line doing the insert, each with its exact size
(the ``bytes`` label, or alloc_space / alloc_objects). Counts are scaled by the runtime's
sampling, so a record's raw number of sampled allocations is count * (1 - exp(-size/rate)).

* Classic maps (Go <= 1.23): growing to 2^B buckets allocates one array of 2^B (+2^(B-4)
  overflow) buckets. The largest B that most maps reach gives the final size:
  more than 6.5 * 2^(B-1) entries, at most 6.5 * 2^B.
* Swiss maps (Go >= 1.24): a table doubles up to 1024 slots (7/8 full at most), then splits
  into two 1024-slot tables. Each map allocates the ladder 16...512 slots once, plus
  2*T - 1 arrays of 1024 slots for T tables. The ladder's sampled count tells how many maps
  were filled, the 1024-slot arrays per map tell T, and T tells the entries (uniform hashing:
  a region of the hash space at depth d holds Poisson(n / 2^d) entries and has split when
  that went over 896).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mapdoctor.analysis.stats import poisson
from mapdoctor.model.profile import Profile, Sample
from mapdoctor.source.findings import CapacityEstimate
from mapdoctor.source.gosizes import MapLayout, allocation_matches, roundup_size
from mapdoctor.source.profile_match import suffix_score

DEFAULT_RATE = 512 * 1024
CLASSIC_LOAD = 6.5
SWISS_TABLE_SLOTS = 1024
SWISS_TABLE_MAX = SWISS_TABLE_SLOTS * 7 // 8  # 896 entries before a full table splits
SWISS_LADDER = (16, 32, 64, 128, 256, 512)


@dataclass(frozen=True, slots=True)
class _Alloc:
    size: int
    count: float  # scaled (estimated) number of allocations
    raw: float  # sampled allocations


def allocations_at(profile: Profile, file_suffix: str, line: int) -> list[_Alloc]:
    """Allocation records whose leaf frame is ``file_suffix:line``, merged by size."""
    i_obj, i_space = profile.value_index("alloc_objects"), profile.value_index("alloc_space")
    if i_obj is None or i_space is None:
        return []
    rate = profile.period if profile.period > 0 else DEFAULT_RATE
    at_line = [s for s in profile.samples if _leaf_line(s) == line]
    scores = {f: suffix_score(f, file_suffix) for f in {_leaf_file(s) for s in at_line}}
    best = max(scores.values(), default=0)
    if best < 1:
        return []
    by_size: dict[int, float] = {}
    for s in at_line:
        if scores[_leaf_file(s)] != best:
            continue
        count, space = s.values[i_obj], s.values[i_space]
        if count <= 0:
            continue
        labelled = s.num_labels.get("bytes")
        size = labelled[0] if labelled else space // count
        by_size[size] = by_size.get(size, 0.0) + count
    return [_Alloc(size, c, c * (1.0 - math.exp(-size / rate))) for size, c in sorted(by_size.items())]


def _leaf_line(s: Sample) -> int:
    return s.locations[0].lines[0].line if s.locations and s.locations[0].lines else 0


def _leaf_file(s: Sample) -> str:
    return s.locations[0].lines[0].function.filename if s.locations and s.locations[0].lines else ""


def estimate_map_capacity(
    profile: Profile,
    file_suffix: str,
    line: int,
    *,
    key_size: int | None = None,
    elem_size: int | None = None,
    implementation: str | None = None,
) -> CapacityEstimate | None:
    """The final size of the map(s) filled at ``file_suffix:line``, from an allocation profile.

    ``key_size``/``elem_size`` (bytes) come from the map's type in the source; without them the
    bucket or group size is inferred from the allocation sizes. ``implementation`` ("classic"
    or "swiss") is inferred too when not given. None when the profile has no allocation values
    or nothing at that line looks like map storage.
    """
    allocs = allocations_at(profile, file_suffix, line)
    if not allocs:
        return None
    impls = (implementation,) if implementation else ("classic", "swiss")
    if key_size is not None and elem_size is not None:
        known = _best(allocs, [MapLayout(key_size, elem_size)], impls, file_suffix, line)
        if known is not None:
            return known
    return _best(allocs, _guess_layouts(allocs), impls, file_suffix, line)


def _best(allocs: list[_Alloc], layouts: list[MapLayout], impls: tuple[str, ...], file: str,
          line: int) -> CapacityEstimate | None:
    best: CapacityEstimate | None = None
    best_score = 0.0
    for layout in layouts:
        for impl in impls:
            est, score = (_classic if impl == "classic" else _swiss)(allocs, layout, file, line)
            if est is not None and score > best_score:
                best, best_score = est, score
    return best


def _guess_layouts(allocs: list[_Alloc]) -> list[MapLayout]:
    """Candidate layouts when the map's type is unknown: each small allocation size seen at the
    line, read as a classic bucket or a Swiss group, with 8-byte keys as a neutral split."""
    out: list[MapLayout] = []
    # A split Swiss map allocates mostly full tables: 128 groups each.
    top = max(allocs, key=lambda a: a.raw)
    for group in range(top.size // 128 // 8 * 8, max(0, top.size // 128 - 64), -8):
        if group > 80 and allocation_matches(group * 128, top.size):
            out.append(MapLayout(8, (group - 8) // 8 - 8))
    seen: set[tuple[int, int]] = set()
    for a in allocs:
        if not 32 <= a.size <= 4096:
            continue
        # A single bucket (16 + 8k + 8e bytes) or group (8 + 8(k+e)) is rounded up to its size
        # class: every key+value size whose bucket or group rounds to this size is a reading
        # (map[int]bool's 88-byte bucket shows as 96).
        for total in range(2, (a.size - 8) // 8 + 1):
            if roundup_size(16 + 8 * total) != a.size and roundup_size(8 + 8 * total) != a.size:
                continue
            key = min(8, total - 1)
            if (key, total - key) not in seen:
                seen.add((key, total - key))
                out.append(MapLayout(key, total - key))
    return out




def _reference_count(found: dict[int, _Alloc]) -> float:
    """How many maps the line filled, from the sizes every map allocates once.

    Each size's scaled count estimates the number of maps that reached it, with the error of
    a Poisson count of its *sampled* allocations: one sample of a 1 KB block stands for ~500
    allocations, while a 50 KB block is sampled one time in ten. So the counts are averaged
    weighted by their samples (inverse variance): the well-sampled large blocks decide, and
    one lucky sample of a small block cannot. (Sizes only a few maps reach pull the mean down
    by little: few maps, so few samples.)"""
    sampled = [a for a in found.values() if a.raw >= 1.0]
    if not sampled:
        return max(a.count for a in found.values())
    return sum(a.count * a.raw for a in sampled) / sum(a.raw for a in sampled)


def _geo(low: int, high: int) -> int:
    return max(1, round(math.sqrt(max(low, 1) * high)))


def _classic(allocs: list[_Alloc], layout: MapLayout, file: str, line: int) -> tuple[CapacityEstimate | None, float]:
    per_b: dict[int, _Alloc] = {}
    matched_bytes = 0.0
    for a in allocs:
        for b in range(1, 40):
            raw = layout.classic_array_bytes(b)
            if raw > a.size:
                break
            if allocation_matches(raw, a.size):
                per_b[b] = a
                matched_bytes += a.count * a.size
                break
    if len(per_b) < 2:
        return None, 0.0
    peak = _reference_count(per_b)
    final = max(b for b, a in per_b.items() if a.count >= 0.5 * peak)
    low, high = int(CLASSIC_LOAD * (1 << (final - 1))) if final > 1 else 8, int(CLASSIC_LOAD * (1 << final))
    maps = per_b[final].count
    size = per_b[final].size
    evidence = (f"bucket arrays of up to 2^{final} buckets ({size} bytes, {layout.bucket_size}-byte buckets) "
                f"allocated about {maps:.0f} times at the line: each map grew to {1 << final} buckets, "
                f"which a map does past {low} entries and holds up to {high}")
    est = CapacityEstimate(file, line, "classic", low, high, _geo(low, high), evidence,
                           layout.key_size, layout.elem_size, maps)
    return est, matched_bytes * len(per_b)


def _swiss(allocs: list[_Alloc], layout: MapLayout, file: str, line: int) -> tuple[CapacityEstimate | None, float]:
    per_cap: dict[int, _Alloc] = {}
    matched_bytes = 0.0
    for a in allocs:
        for cap in (8, *SWISS_LADDER, SWISS_TABLE_SLOTS):
            if allocation_matches(layout.swiss_groups_bytes(cap), a.size):
                per_cap[cap] = a
                matched_bytes += a.count * a.size
                break
    if len(per_cap) < 2 and SWISS_TABLE_SLOTS not in per_cap:
        return None, 0.0
    full = per_cap.get(SWISS_TABLE_SLOTS)
    ladder = [(cap, per_cap.get(cap)) for cap in SWISS_LADDER]
    rate_sizes = [roundup_size(layout.swiss_groups_bytes(cap)) for cap in SWISS_LADDER]
    if full is None or full.count <= 1.5 * max((a.count for _, a in ladder if a is not None), default=0):
        # No table ever split: the largest table size most maps reach bounds the size.
        peak = _reference_count(per_cap)
        top = max(c for c, a in per_cap.items() if a.count >= 0.5 * peak)
        low, high = (top * 7 // 16, top * 7 // 8) if top > 16 else (8, 14) if top == 16 else (0, 8)
        maps = per_cap[top].count
        evidence = (f"tables of up to {top} slots ({per_cap[top].size} bytes, {layout.group_size}-byte groups), "
                    f"no split: more than {low} entries, at most {high}")
        est = CapacityEstimate(file, line, "swiss", low, high, _geo(low, high), evidence,
                               layout.key_size, layout.elem_size, maps)
        return est, matched_bytes * len(per_cap)
    # Maps filled at the line: every map allocates each ladder size once. Weigh each size by
    # its sampling probability (its expected share of the sampled allocations).
    rate = DEFAULT_RATE
    probs = [1.0 - math.exp(-s / rate) for s in rate_sizes]
    raw_ladder = sum(a.raw for _, a in ladder if a is not None)
    maps = raw_ladder / sum(probs) if raw_ladder > 0 else 0.0
    if maps <= 0:
        # Full tables were sampled but none of the smaller ones: the number of maps, and so the
        # size of each, is unknown; only the lower bound holds.
        low = SWISS_TABLE_MAX
        high = _entries_for_tables((full.count + 1) / 2)
        evidence = (f"{full.count:.0f} full tables ({full.size} bytes each) but no sample of the smaller "
                    f"tables to count the maps: more than {low} entries each")
        est = CapacityEstimate(file, line, "swiss", low, high, low + 1, evidence, layout.key_size,
                               layout.elem_size, 0.0,
                               limit="no sample of the maps' smaller tables, so the maps cannot be counted")
        return est, matched_bytes * len(per_cap)
    # The map count is the uncertain part: a Poisson count of the sampled ladder tables. Its 95%
    # interval gives the range of entries per map; the table count per map is exact by comparison.
    k_low, k_high = poisson(raw_ladder)
    tables = (full.count / maps + 1) / 2
    n = _entries_for_tables(tables)
    low = max(SWISS_TABLE_MAX, _entries_for_tables((full.count / (k_high / sum(probs)) + 1) / 2))
    high = max(low + 1, _entries_for_tables((full.count / max(k_low / sum(probs), 1.0) + 1) / 2))
    evidence = (f"{full.count:.0f} full {SWISS_TABLE_SLOTS}-slot tables ({full.size} bytes, "
                f"{layout.group_size}-byte groups) over about {maps:.0f} maps (counted from "
                f"{raw_ladder:.0f} sampled smaller tables): about {tables:.0f} tables, so about {n} entries "
                f"per map")
    limit = ""
    if high > 2 * low:
        limit = (f"only {raw_ladder:.0f} sampled small tables count the maps (95% interval {k_low:.0f}-"
                 f"{k_high:.0f}); a longer allocation profile, or a lower runtime.MemProfileRate, would "
                 f"narrow it")
    est = CapacityEstimate(file, line, "swiss", low, high, max(low + 1, min(high, n)), evidence,
                           layout.key_size, layout.elem_size, maps, limit=limit)
    return est, matched_bytes * len(per_cap)


def expected_tables(n: float) -> float:
    """Expected number of tables of a Swiss map holding ``n`` uniformly hashed entries."""
    t = 1.0
    d = 0
    while True:
        lam = n / (1 << d)
        if lam < SWISS_TABLE_MAX / 4:
            break
        t += (1 << d) * _poisson_tail(lam, SWISS_TABLE_MAX)
        d += 1
    return t


def _poisson_tail(lam: float, k: int) -> float:
    """P(Poisson(lam) > k), normal approximation (lam is in the hundreds here)."""
    z = (k + 0.5 - lam) / math.sqrt(lam)
    return 0.5 * math.erfc(z / math.sqrt(2))


def _entries_for_tables(tables: float) -> int:
    if tables <= 1:
        return SWISS_TABLE_MAX
    lo, hi = float(SWISS_TABLE_MAX), float(SWISS_TABLE_MAX)
    while expected_tables(hi) < tables:
        hi *= 2
    for _ in range(60):
        mid = (lo + hi) / 2
        if expected_tables(mid) < tables:
            lo = mid
        else:
            hi = mid
    return round(hi)
