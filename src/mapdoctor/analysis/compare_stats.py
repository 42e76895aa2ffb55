"""Tests for a before/after change in a share: two binomial proportions.

A share before (k1 of n1 CPU samples) and after (k2 of n2) is compared with

* Newcombe's hybrid score interval for the difference p2 - p1 (his method 10, 1998): built
  from each side's Wilson interval, it stays sensible at 0 % and 100 % where the textbook
  Wald interval has width zero, and its coverage is close to 95 % from a few dozen samples;
* Fisher's exact test on the 2x2 table of counts (two-sided, summing every table at most as
  likely as the one observed), for a p-value that needs no large-sample approximation.

A change is called significant when the interval excludes zero. The two agree except at the
margin, where the report shows both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mapdoctor.analysis.stats import wilson


@dataclass(frozen=True, slots=True)
class Delta:
    before: float
    after: float
    low: float  # 95 % interval of after - before
    high: float
    p_value: float

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def newcombe(k1: float, n1: float, k2: float, n2: float) -> tuple[float, float]:
    """95 % interval of ``k2/n2 - k1/n1`` (Newcombe's hybrid score method)."""
    p1 = k1 / n1 if n1 else 0.0
    p2 = k2 / n2 if n2 else 0.0
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return max(-1.0, low), min(1.0, high)


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test for k1 of n1 against k2 of n2."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    total_k = k1 + k2
    n = n1 + n2
    lo, hi = max(0, total_k - n2), min(total_k, n1)
    base = _log_choose(n, total_k)

    def logp(x: int) -> float:
        return _log_choose(n1, x) + _log_choose(n2, total_k - x) - base

    observed = logp(k1)
    # Tables within a relative 1e-7 of the observed one count as equally likely (as R and SciPy do).
    limit = observed + math.log1p(1e-7)
    p = sum(math.exp(lp) for x in range(lo, hi + 1) if (lp := logp(x)) <= limit)
    return min(1.0, p)


def compare_counts(k1: float, n1: int, k2: float, n2: int) -> Delta:
    """The change from k1 of n1 to k2 of n2, with its interval and exact p-value."""
    low, high = newcombe(k1, n1, k2, n2)
    p = fisher_exact(round(k1), n1, round(k2), n2)
    return Delta(k1 / n1 if n1 else 0.0, k2 / n2 if n2 else 0.0, low, high, p)
