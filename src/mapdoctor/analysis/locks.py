"""Lock contention evidence from block and mutex profiles.

The block profile says where goroutines waited (the ``Lock`` call: the line to change); the
mutex profile says who held the lock while others waited (the ``Unlock`` side). Both also
record waits that are not locks (channels, select, sync.Cond): only lock waits count here.
"""

from __future__ import annotations

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.costs import CostBreakdown, profile_breakdown
from mapdoctor.formats.detect import InputKind, LoadedInput


def lock_waits(inputs: list[LoadedInput], classifier: StackClassifier) -> tuple[CostBreakdown | None, list[str]]:
    notes: list[str] = []
    by_kind: dict[InputKind, CostBreakdown] = {}
    for item in inputs:
        if item.kind not in (InputKind.BLOCK, InputKind.MUTEX, InputKind.CONTENTION) or item.profile is None:
            continue
        prof = item.profile
        idx = prof.value_index("delay")
        if idx is None:
            continue
        part = profile_breakdown(prof, idx, classifier, source=f"{item.kind.value} profile {item.path}",
                                 unit=prof.sample_types[idx].unit)
        if not prof.duration_nanos:
            notes.append(f"{item.path}: {item.kind.value} profile covers the whole process lifetime "
                         "(not a ?seconds= delta); its delays cannot be compared with CPU time")
        prev = by_kind.get(item.kind)
        if prev is None:
            by_kind[item.kind] = part
        else:
            prev.merge(part)
    for kind in (InputKind.BLOCK, InputKind.CONTENTION, InputKind.MUTEX):
        if kind in by_kind:
            return by_kind[kind], notes
    return None, notes
