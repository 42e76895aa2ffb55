"""A light sample's summary: what one CPU profile says, for watching a service over time.

``mapdoctor watch`` takes a few seconds of CPU profile from every target on a schedule.
Each goes through the same pipeline as ``analyze`` (so the shares and the top site are the
ones a full report would give), reduced to the numbers a trend and a trigger need: CPU
used, the share of each cost kind with the sample count it rests on, and the top site.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mapdoctor.analysis.diagnose import diagnose
from mapdoctor.analysis.stats import Share
from mapdoctor.errors import InputError
from mapdoctor.formats import pprof
from mapdoctor.formats.detect import InputKind, LoadedInput, LoadResult
from mapdoctor.formats.limits import gunzip, is_gzip

#: Shares a jump trigger may watch, each the sum of some JSON-contract share keys.
WATCHED_SHARES: dict[str, tuple[str, ...]] = {
    "map_growth": ("map_growth",),
    "gc": ("gc", "gc_assist"),
    "lock": ("lock_wait",),
}


@dataclass(frozen=True, slots=True)
class TopSite:
    kind: str  # the cause it belongs to (CauseKind value)
    function: str
    file: str
    line: int
    share: float  # of the sampled CPU, 0..1


@dataclass(slots=True)
class CpuSnapshot:
    cores: float  # CPU time / wall time of the profile
    samples: int  # CPU samples the shares rest on
    shares: dict[str, float] = field(default_factory=dict)  # JSON-contract keys
    verdict: str = "inconclusive"
    confidence: str = "low"
    top: TopSite | None = None

    def watched(self, name: str) -> Share:
        """One of WATCHED_SHARES with its interval."""
        value = sum(self.shares.get(k, 0.0) for k in WATCHED_SHARES[name])
        return Share.of(value * self.samples, self.samples)


def cpu_snapshot(data: bytes, name: str) -> CpuSnapshot:
    """Summarise a CPU profile (gzipped or not); InputError when it cannot be read."""
    raw = gunzip(data, name) if is_gzip(data) else data
    prof = pprof.decode_profile(raw, name)
    idx = prof.value_index("cpu")
    if idx is None:
        idx = prof.value_index("samples")
    if idx is None:
        raise InputError(name, "pprof", "not a CPU profile (no cpu or samples value)")
    total = prof.total(idx)
    unit = prof.sample_types[idx].unit
    if unit == "nanoseconds":
        cpu_ns = float(total)
        samples = round(total / prof.period) if prof.period else len(prof.samples)
    else:  # sample counts
        samples = int(total)
        cpu_ns = float(total * prof.period)
    cores = cpu_ns / prof.duration_nanos if prof.duration_nanos else 0.0
    d = diagnose(LoadResult(inputs=[LoadedInput(name, InputKind.CPU, profile=prof)]))
    top = None
    for cause in d.causes:
        if cause.sites:
            s = cause.sites[0]
            top = TopSite(cause.kind.value, s.function, s.file, s.line, cause.score * s.share)
            break
    return CpuSnapshot(cores, samples, dict(d.shares), d.verdict.value, d.confidence, top)
