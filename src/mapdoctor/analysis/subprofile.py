"""The sub-profile of one cause: only the CPU samples a cause's share counts, as a pprof profile.

For people who want pprof's own views (``go tool pprof -top``, ``-web``, ``-list``) on exactly what
the verdict measured. A sample is kept when the frame table puts its stack in one of the cause's
share categories, the same classification that computed the share, so the sub-profile's total
over the source profile's total is the cause's share (``Diagnosis.shares``). Locations, functions
and mappings no kept sample uses are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mapdoctor.analysis import frametable
from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.compare import CAUSE_SHARES
from mapdoctor.analysis.findings import CauseKind, Diagnosis
from mapdoctor.formats.detect import InputKind, LoadResult
from mapdoctor.model.profile import Profile

_TABLES = {"classic": frametable.CLASSIC, "swiss": frametable.SWISS}


class NoSubProfile(ValueError):
    """The cause has no CPU samples to export (the message says why)."""


@dataclass(frozen=True, slots=True)
class SubProfile:
    profile: Profile
    kind: CauseKind
    source: str  # path of the CPU profile it was cut from
    share: float  # sub-profile total / source total


def default_kind(d: Diagnosis) -> CauseKind:
    """The first cause measured by CPU samples; map growth when there is none."""
    return next((c.kind for c in d.causes if c.kind in CAUSE_SHARES), CauseKind.MAP_GROWTH)


def cut(loaded: LoadResult, d: Diagnosis, kind: CauseKind) -> SubProfile:
    if kind not in CAUSE_SHARES:
        raise NoSubProfile(f"{kind.value} is not measured by CPU samples; causes that can be exported: "
                           + ", ".join(k.value for k in CAUSE_SHARES))
    cpu = [i for i in loaded.inputs if i.kind is InputKind.CPU and i.profile is not None]
    if not cpu:
        raise NoSubProfile("no CPU profile among the inputs")
    # The longest profile: one profile keeps pprof's totals meaningful (no merged durations).
    item = max(cpu, key=lambda i: len(i.profile.samples) if i.profile else 0)
    prof = item.profile
    assert prof is not None
    idx = prof.value_index("cpu")
    if idx is None:
        idx = prof.value_index("samples")
    if idx is None:
        raise NoSubProfile(f"{item.path}: no cpu or samples value")
    classifier = StackClassifier(_TABLES.get(d.go.maps or "", frametable.ANY))
    wanted = set(CAUSE_SHARES[kind])
    keep = []
    verdict_of: dict[tuple[int, ...], bool] = {}
    for s in prof.samples:
        key = tuple(loc.id for loc in s.locations)
        hit = verdict_of.get(key)
        if hit is None:
            cost = classifier.classify(s.stack()).cost
            hit = verdict_of[key] = frametable.SHARE_OF[cost] in wanted
        if hit:
            keep.append(s)
    total = prof.total(idx)
    kept = sum(s.values[idx] for s in keep)
    if not kept:
        raise NoSubProfile(f"{item.path}: no CPU samples in {kind.value}")
    loc_ids = {loc.id for s in keep for loc in s.locations}
    locations = [loc for loc in prof.locations if loc.id in loc_ids]
    fn_ids = {ln.function.id for loc in locations for ln in loc.lines}
    map_ids = {loc.mapping.id for loc in locations if loc.mapping is not None}
    share = kept / total if total else 0.0
    comment = (f"mapdoctor: only the samples of {kind.value} ({100 * share:.1f}% of {item.path}: "
               f"{kept} of {total} {prof.sample_types[idx].unit})")
    sub = replace(prof, samples=keep, locations=locations,
                  functions=[f for f in prof.functions if f.id in fn_ids],
                  mappings=[m for m in prof.mappings if m.id in map_ids],
                  comments=[*prof.comments, comment])
    return SubProfile(sub, kind, item.path, share)
