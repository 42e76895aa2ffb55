"""Allocation evidence from allocs/heap profiles.

These profiles strip the runtime frames (``hashGrow``, ``(*table).rehash``, ``growslice``
never appear), so growth bytes land on the user line that inserted or appended. What is
left to go on is the size of each allocation (pprof's ``bytes`` label: Go keys its memory
profile buckets by stack *and* size): a map growing without a size hint leaves, at one
line, a series of block sizes that double (bucket arrays, or Swiss groups arrays up to the
1024-slot table), while appending to a large slice grows by ~1.25x past 256 elements.
"""

from __future__ import annotations

from collections import defaultdict

from mapdoctor.analysis.classify import SiteFinder
from mapdoctor.analysis.costs import SiteKey, site_key
from mapdoctor.analysis.evidence import AllocEvidence, GrowthSeries
from mapdoctor.formats.detect import InputKind, LoadedInput
from mapdoctor.model.profile import Profile

#: Consecutive sizes within this ratio count as one doubling step (size classes round).
DOUBLING = (1.6, 2.6)
#: Below this a block is too small to tell a growth step from noise.
MIN_BLOCK = 256
#: Doubling steps a site must show before we call it a growth series.
MIN_STEPS = 3


def _block_size(profile: Profile, values: tuple[int, ...], labels: dict[str, tuple[int, ...]],
                i_objects: int, i_space: int) -> int:
    got = labels.get("bytes")
    if got:
        return got[0]
    return values[i_space] // values[i_objects] if values[i_objects] else 0


def _longest_doubling(sizes: list[int]) -> list[int]:
    best: list[int] = []
    run: list[int] = []
    for s in sizes:
        if run and DOUBLING[0] <= s / run[-1] <= DOUBLING[1]:
            run.append(s)
        else:
            run = [s]
        if len(run) > len(best):
            best = list(run)
    return best


def alloc_evidence(inputs: list[LoadedInput]) -> AllocEvidence | None:
    chosen = [i for i in inputs if i.kind is InputKind.ALLOCS and i.profile is not None]
    if not chosen:
        chosen = [i for i in inputs if i.kind is InputKind.HEAP and i.profile is not None]
    if not chosen:
        return None
    by_site: defaultdict[SiteKey, float] = defaultdict(float)
    sizes: defaultdict[SiteKey, defaultdict[int, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0, 0.0]))
    total_b = total_o = 0.0
    duration = 0
    for item in chosen:
        prof = item.profile
        assert prof is not None
        i_space, i_objects = prof.value_index("alloc_space"), prof.value_index("alloc_objects")
        if i_space is None or i_objects is None:
            continue
        duration += prof.duration_nanos
        finder = SiteFinder()
        keys: dict[int, SiteKey] = {}
        for sample in prof.samples:
            b = sample.values[i_space]
            if not b:
                continue
            frame = finder.site(sample.locations)
            site = keys.get(id(frame))
            if site is None:
                site = keys[id(frame)] = site_key(frame)
            total_b += b
            total_o += sample.values[i_objects]
            by_site[site] += b
            size = _block_size(prof, sample.values, sample.num_labels, i_objects, i_space)
            if size >= MIN_BLOCK:
                acc = sizes[site][size]
                acc[0] += b
                acc[1] += sample.values[i_objects]
    series: list[GrowthSeries] = []
    for site, per_size in sizes.items():
        run = _longest_doubling(sorted(per_size))
        if len(run) > MIN_STEPS:
            run_bytes = sum(per_size[s][0] for s in run)
            run_objects = sum(per_size[s][1] for s in run)
            series.append(GrowthSeries(site, run, run_bytes, run_objects))
    series.sort(key=lambda g: -g.bytes)
    source = ", ".join(f"{i.kind.value} profile {i.path}" for i in chosen)
    return AllocEvidence(source, duration, total_b, total_o, dict(by_site), series)
