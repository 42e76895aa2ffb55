"""When a light sample calls for a full capture.

Three kinds of rule, each optional:

* **CPU above N cores** and **goroutines above N**: plain thresholds on the sample.
* **A jump of a share versus the target's own baseline** (map growth, GC, lock): the
  baseline is the median share of the target's last samples (at least ``min_baseline`` of
  them); the rule fires when the current share's 95 % Wilson lower bound is at least
  ``jump`` above it. The lower bound, not the point estimate, so that a short or idle
  sample (few CPU samples, wide interval) cannot fire on noise: at 0.1 core over 5 s,
  50 samples, 40 % ± 14 points.

Alertmanager webhooks are the external trigger (``alerts``).
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

from mapdoctor.analysis.snapshot import WATCHED_SHARES, CpuSnapshot

#: Kinds of trigger (the ``trigger`` label of ``mapdoctor_captures_total``).
TRIGGER_KINDS = ("cpu", "goroutines", "share_jump", "alert", "resumed")


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: str  # one of TRIGGER_KINDS
    reason: str  # for people: "map_growth share 61% (lower bound 54%) vs baseline 3%"
    detail: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TriggerRules:
    cpu_cores: float | None = None
    goroutines: int | None = None
    jump: float | None = 0.20  # share points, 0..1
    jump_shares: tuple[str, ...] = tuple(WATCHED_SHARES)
    min_baseline: int = 5
    baseline_len: int = 30
    #: Samples with fewer CPU samples than this never feed a jump rule (an idle service).
    min_samples: int = 20


@dataclass(slots=True)
class Baseline:
    """The recent shares of one target, per watched share."""

    size: int
    history: dict[str, deque[float]] = field(default_factory=dict)

    def median(self, name: str) -> tuple[float, int]:
        h = self.history.get(name)
        if not h:
            return 0.0, 0
        return statistics.median(h), len(h)

    def add(self, snap: CpuSnapshot, rules: TriggerRules) -> None:
        if snap.samples < rules.min_samples:
            return
        for name in rules.jump_shares:
            self.history.setdefault(name, deque(maxlen=self.size)).append(snap.watched(name).value)


def evaluate(rules: TriggerRules, snap: CpuSnapshot | None, goroutines: int | None,
             baseline: Baseline) -> Trigger | None:
    """The first rule the sample breaks (then the sample joins the baseline), or None."""
    if rules.goroutines is not None and goroutines is not None and goroutines > rules.goroutines:
        return Trigger("goroutines", f"{goroutines} goroutines (threshold {rules.goroutines})",
                       {"goroutines": goroutines, "threshold": rules.goroutines})
    if snap is None:
        return None
    if rules.cpu_cores is not None and snap.cores > rules.cpu_cores:
        return Trigger("cpu", f"{snap.cores:.2f} CPU cores (threshold {rules.cpu_cores:g})",
                       {"cores": round(snap.cores, 3), "threshold": rules.cpu_cores})
    fired: Trigger | None = None
    if rules.jump is not None and snap.samples >= rules.min_samples:
        for name in rules.jump_shares:
            base, n = baseline.median(name)
            if n < rules.min_baseline:
                continue
            share = snap.watched(name)
            if share.low - base >= rules.jump:
                fired = Trigger("share_jump", f"{name} share {share.text()} vs baseline {100 * base:.1f}% "
                                              f"(median of {n} samples; jump threshold {100 * rules.jump:.0f} points)",
                                {"share": name, "value": round(share.value, 4), "low": round(share.low, 4),
                                 "baseline": round(base, 4), "baseline_samples": n})
                break
    # A sample that fires does not join the baseline: the spike must not become the norm.
    if fired is None:
        baseline.add(snap, rules)
    return fired
