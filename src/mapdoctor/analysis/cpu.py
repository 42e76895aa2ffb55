"""CPU evidence: classify every CPU sample (profiles, or a trace's samples when no profile)."""

from __future__ import annotations

from mapdoctor.analysis.classify import StackClassifier
from mapdoctor.analysis.costs import CostBreakdown, profile_breakdown
from mapdoctor.formats.detect import InputKind, LoadedInput


def cpu_from_profiles(inputs: list[LoadedInput], classifier: StackClassifier) -> CostBreakdown | None:
    total: CostBreakdown | None = None
    for item in inputs:
        if item.kind is not InputKind.CPU or item.profile is None:
            continue
        prof = item.profile
        idx = prof.value_index("cpu")
        if idx is None:
            idx = prof.value_index("samples")
        if idx is None:
            continue
        unit = prof.sample_types[idx].unit
        # Count samples by the profile's own sample counts (one record can stand for many).
        count_idx = prof.value_index("samples")
        if count_idx is not None and prof.sample_types[count_idx].unit != "count":
            count_idx = None
        part = profile_breakdown(prof, idx, classifier, source=f"CPU profile {item.path}", unit=unit,
                                 count_index=count_idx)
        if unit == "count" and prof.period:
            # Sample counts: weight by the sampling period to get nanoseconds.
            part.scale(prof.period)
        if total is None:
            total = part
        else:
            total.merge(part)
            total.source = "CPU profiles"
    return total
