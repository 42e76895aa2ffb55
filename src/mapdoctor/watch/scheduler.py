"""When each target is sampled next: the interval, its jitter, and the overhead budget.

Two costs are bounded:

* **On each target**, the share of its time spent being profiled (light samples plus
  captures) over the last hour must stay under ``budget`` (default 10 %): the interval is
  never shorter than ``window / budget``, and a target whose recent captures used its
  budget up is not sampled again until it is back under it. A CPU profile at 100 Hz costs
  a Go service little while it runs (measured by ``perf/bench_watch.py``); the budget caps
  how often that little is paid.
* **On the agent's machine**, the agent's own CPU use (measured every few seconds) must
  stay under ``max_cpu`` cores: above it, every interval is stretched (up to 8x), and it
  relaxes again once the agent is well under.
"""

from __future__ import annotations

import random
import time
from collections import deque
from dataclasses import dataclass, field

DUTY_WINDOW_S = 3600.0
CPU_MEASURE_EVERY_S = 5.0
MAX_STRETCH = 8.0
STRETCH_STEP = 1.25


@dataclass(slots=True)
class DutyLog:
    """Seconds a target was profiled, over the last hour."""

    first_seen: float
    spans: deque[tuple[float, float]] = field(default_factory=deque)  # (end monotonic, seconds)
    total_s: float = 0.0  # since the agent started (a counter)

    def add(self, end: float, seconds: float) -> None:
        self.spans.append((end, seconds))
        self.total_s += seconds

    def ratio(self, now: float) -> float:
        while self.spans and self.spans[0][0] < now - DUTY_WINDOW_S:
            self.spans.popleft()
        span = min(DUTY_WINDOW_S, max(now - self.first_seen, 1.0))
        return sum(s for _, s in self.spans) / span


@dataclass(slots=True)
class Schedule:
    interval_s: float
    window_s: int
    budget: float
    jitter: float = 0.1
    max_cpu: float = 0.5
    stretch: float = 1.0
    agent_cpu_cores: float = 0.0
    _rng: random.Random = field(default_factory=random.Random)
    _cpu_mark: tuple[float, float] = field(default_factory=lambda: (time.monotonic(), time.process_time()))

    @property
    def base_interval_s(self) -> float:
        """The configured interval, raised to what the budget allows."""
        return max(self.interval_s, self.window_s / self.budget)

    @property
    def effective_interval_s(self) -> float:
        return self.base_interval_s * self.stretch

    def first_due(self, now: float) -> float:
        """A new target's first sample, spread over one interval (no thundering herd)."""
        return now + self._rng.uniform(0.0, self.effective_interval_s)

    def next_due(self, started: float) -> float:
        j = self._rng.uniform(-self.jitter, self.jitter)
        return started + self.effective_interval_s * (1.0 + j)

    def over_budget(self, duty: DutyLog, now: float) -> bool:
        return duty.ratio(now) > self.budget

    def measure_cpu(self, now: float) -> bool:
        """Update the agent's CPU use and the stretch; True when measured."""
        t0, c0 = self._cpu_mark
        if now - t0 < CPU_MEASURE_EVERY_S:
            return False
        cpu = time.process_time()
        self.agent_cpu_cores = (cpu - c0) / (now - t0)
        self._cpu_mark = (now, cpu)
        if self.agent_cpu_cores > self.max_cpu:
            self.stretch = min(MAX_STRETCH, self.stretch * STRETCH_STEP)
        elif self.agent_cpu_cores < 0.6 * self.max_cpu and self.stretch > 1.0:
            self.stretch = max(1.0, self.stretch / STRETCH_STEP)
        return True
