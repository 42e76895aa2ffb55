"""What to do now, in order, honest about each step: the runbook of a verdict with a cause.

1. The code change (the first site's advice) and, when the source is a git tree, the commit
   that last touched the site's line (``git blame``): the commit to review or roll back.
2. GC knobs, when a gctrace log is among the inputs and GC costs the service: a GOGC value and
   the GC frequency and heap peak it implies, from the log's own numbers, and a GOMEMLIMIT to
   go with it. The model is the pacer's: a cycle starts when the heap has grown by
   live x GOGC/100 since the last mark (at least 4 MB x GOGC/100), so at a steady allocation
   rate R the GC runs R / (live x GOGC/100) times a second, and the heap peaks near
   live x (1 + GOGC/100). These knobs trade memory for CPU; they do not remove the cause.

What does not work (see docs/RUNBOOK.md): hooking ``runtime.mapassign`` with ``LD_PRELOAD`` (Go
links its runtime statically and calls it directly, never through the PLT), and
``debug.FreeOSMemory`` for growth (it returns freed pages to the OS after a forced GC; it
neither shrinks a live map nor avoids the next growth).
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from statistics import median
from typing import Any

from mapdoctor.analysis.findings import CauseKind, Diagnosis
from mapdoctor.formats.detect import LoadedInput
from mapdoctor.model.gc import GCTrace

#: GC CPU share the GOGC advice aims for.
TARGET_GC_CPU = 0.10
MAX_GOGC = 800
#: The pacer's minimum heap goal at GOGC=100 (runtime/mgcpacer.go: defaultHeapMinimum).
HEAP_MIN_MB = 4.0
GIT_TIMEOUT_S = 10


@dataclass(slots=True)
class GCModel:
    """The numbers of a gctrace log the pacer model needs."""

    seconds: float
    cycles: int
    gogc: int  # inferred from goal / previous live heap
    live_mb: float  # median heap marked live
    peak_mb: float  # largest heap at the end of marking
    alloc_mb_per_s: float
    gc_cpu: float  # share of CPU in GC (the last line's cumulative figure)

    @property
    def cycles_per_s(self) -> float:
        return self.cycles / self.seconds if self.seconds else 0.0

    def goal_growth_mb(self, gogc: int) -> float:
        return max(self.live_mb, HEAP_MIN_MB) * gogc / 100

    def predicted_cycles_per_s(self, gogc: int) -> float:
        """Scaled from the measured frequency (the allocation rate is what it is)."""
        return self.cycles_per_s * self.goal_growth_mb(self.gogc) / self.goal_growth_mb(gogc)

    def predicted_peak_mb(self, gogc: int) -> float:
        return self.live_mb + self.goal_growth_mb(gogc)


def gc_model(trace: GCTrace) -> GCModel | None:
    cycles = [c for c in trace.cycles if not c.forced]
    if len(cycles) < 4:
        return None
    steady = cycles[len(cycles) // 4:]  # the first cycles run while the heap is still filling
    seconds = steady[-1].at_seconds - steady[0].at_seconds
    if seconds <= 0:
        return None
    ratios = [c.heap_goal_mb / p.heap_live_mb for p, c in pairwise(steady)
              if p.heap_live_mb >= HEAP_MIN_MB]
    gogc = round(100 * (median(ratios) - 1) / 50) * 50 if ratios else 100
    gogc = max(gogc, 25)
    allocated = sum(max(0, c.heap_start_mb - p.heap_live_mb) for p, c in pairwise(steady))
    return GCModel(seconds=seconds, cycles=len(steady) - 1, gogc=gogc,
                   live_mb=float(median(c.heap_live_mb for c in steady)),
                   peak_mb=float(max(c.heap_end_mb for c in steady)), alloc_mb_per_s=allocated / seconds,
                   gc_cpu=trace.cycles[-1].gc_cpu_percent / 100)


def _round_up(x: float, step: int) -> int:
    return int(math.ceil(x / step) * step)


def gc_knobs(m: GCModel) -> dict[str, Any]:
    """A GOGC value and the GOMEMLIMIT to go with it, with what they imply."""
    factor = max(2.0, m.gc_cpu / TARGET_GC_CPU) if m.gc_cpu else 2.0
    gogc = min(MAX_GOGC, _round_up(m.gogc * factor, 50))
    peak = m.predicted_peak_mb(gogc)
    # CPU the GC gives back lets a busy service do more work: allocate faster and hold more floating
    # garbage at each mark. Up to 1 / (1 - GC share) times more (measured on the lab's self-loaded
    # service: 3.2x the allocation rate at GOGC 100 -> 600 on Go 1.23).
    busy = min(4.0, 1 / max(0.25, 1 - m.gc_cpu))
    peak_busy = peak * busy
    limit = _round_up(peak_busy * 1.1, 16)
    return {
        "measured": {"gogc": m.gogc, "cycles_per_s": round(m.cycles_per_s, 2), "live_mb": round(m.live_mb, 1),
                     "peak_mb": round(m.peak_mb, 1), "alloc_mb_per_s": round(m.alloc_mb_per_s, 1),
                     "gc_cpu": round(m.gc_cpu, 3), "seconds": round(m.seconds, 2)},
        "gogc": gogc,
        "predicted_cycles_per_s": round(m.predicted_cycles_per_s(gogc), 2),
        "predicted_peak_mb": round(peak, 1),
        "predicted_peak_busy_mb": round(peak_busy, 1),
        "headroom_mb": round(max(0.0, peak_busy - m.peak_mb), 1),
        "gomemlimit_mib": limit,
        "gomemlimit_floor_mib": _round_up(m.live_mb * 1.1, 1),
    }


def _knob_text(k: dict[str, Any]) -> str:
    m = k["measured"]
    return (f"GOGC={k['gogc']} (the log shows GOGC~{m['gogc']}: {m['cycles_per_s']} GC cycles/s, "
            f"{m['live_mb']} MB live, "
            f"{m['alloc_mb_per_s']} MB/s allocated, {100 * m['gc_cpu']:.0f}% of CPU in GC): about "
            f"{k['predicted_cycles_per_s']} cycles/s at today's allocation rate, and a heap peak near "
            f"{k['predicted_peak_mb']} MB, up to {k['predicted_peak_busy_mb']} MB if the service does more work with "
            f"the CPU the GC gives back (now {m['peak_mb']} MB: up to {k['headroom_mb']} MB more memory). With it, "
            f"GOMEMLIMIT={k['gomemlimit_mib']}MiB as a ceiling (below the container's limit; never under "
            f"{k['gomemlimit_floor_mib']}MiB, the live heap plus 10%, or the GC runs back to back). "
            "This buys CPU with memory; it does not remove the allocations.")


def _git_blame(source: Path, file: str, line: int) -> dict[str, Any] | None:
    """The commit that last changed ``file:line`` (file as the profile names it, matched by suffix)."""
    try:
        top = subprocess.run(["git", "-C", str(source), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=GIT_TIMEOUT_S)
        if top.returncode != 0:
            return None
        root = Path(top.stdout.strip())
        parts = Path(file).parts
        candidates = [root / Path(*parts[i:]) for i in range(len(parts))]
        candidates += [source / Path(*parts[i:]) for i in range(len(parts))]
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            return None
        r = subprocess.run(["git", "-C", str(root), "blame", "--porcelain", "-L", f"{line},{line}", "--",
                            str(path.resolve().relative_to(root.resolve()))],
                           capture_output=True, text=True, timeout=GIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if r.returncode != 0 or not r.stdout:
        return None
    lines = r.stdout.splitlines()
    info = {"commit": lines[0].split()[0]}
    for ln in lines[1:]:
        key, _, value = ln.partition(" ")
        if key in ("author", "author-time", "summary"):
            info[key] = value
    if set(info["commit"]) == {"0"}:
        return {"commit": None, "summary": "not committed yet"}
    return {"commit": info["commit"][:12], "author": info.get("author", ""),
            "author_time": int(info.get("author-time", "0")), "summary": info.get("summary", "")}


@dataclass(slots=True)
class Step:
    action: str
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, **self.detail}


def runbook(d: Diagnosis, inputs: Sequence[LoadedInput], source_dir: Path | None = None) -> list[dict[str, Any]]:
    if not d.causes:
        return []
    steps: list[Step] = []
    top = d.causes[0]
    site = next((s for s in top.sites if s.advice), top.sites[0] if top.sites else None)
    if site is not None:
        detail: dict[str, Any] = {"kind": "code", "file": site.file, "line": site.line}
        blame = _git_blame(source_dir, site.file, site.line) if source_dir is not None and site.file else None
        text = f"fix {site.file}:{site.line}: {site.advice or 'see the cause above'}"
        if blame is not None:
            detail["blame"] = blame
            if blame.get("commit"):
                import datetime as _dt

                when = _dt.datetime.fromtimestamp(blame["author_time"], _dt.UTC).strftime("%Y-%m-%d")
                text += (f"; the line was last changed by {blame['commit']} ({when}, {blame['summary']!r}): the "
                         "commit to review or roll back")
        steps.append(Step(text, detail))
    gc_cause = any(c.kind is CauseKind.GC_PRESSURE for c in d.causes) or d.shares.get("gc", 0) + \
        d.shares.get("gc_assist", 0) >= 0.10
    trace = next((i.gctrace for i in inputs if i.gctrace is not None and i.gctrace.cycles), None)
    if gc_cause and trace is not None:
        model = gc_model(trace)
        if model is not None:
            knobs = gc_knobs(model)
            steps.append(Step("meanwhile, " + _knob_text(knobs), {"kind": "gc_knobs", **knobs}))
    elif gc_cause:
        steps.append(Step("GC knobs (GOGC, GOMEMLIMIT) can trade memory for GC CPU; capture GODEBUG=gctrace=1 "
                          "output so mapdoctor can size them", {"kind": "gc_knobs"}))
    return [s.as_dict() for s in steps]
