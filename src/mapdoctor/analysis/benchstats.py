"""benchstat-style statistics for repeated Go benchmark runs.

For each benchmark: the median of its runs and a distribution-free 95 % interval of the median
(order statistics of the binomial(n, 1/2), as benchstat does). Two benchmarks are compared with the
Mann-Whitney U test (two-sided; exact distribution for small samples, normal approximation with tie
correction beyond), and a difference is reported only when p < 0.05.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

ALPHA = 0.05


@dataclass(frozen=True, slots=True)
class Summary:
    median: float
    low: float
    high: float
    n: int


def _binom_cdf(k: int, n: int) -> float:
    return float(sum(math.comb(n, i) for i in range(k + 1))) / float(2 ** n)


def summarize(values: Sequence[float]) -> Summary:
    xs = sorted(values)
    n = len(xs)
    if not n:
        return Summary(0.0, 0.0, 0.0, 0)
    mid = xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2
    # The widest j with P(X < j) <= 2.5 % for X ~ Binomial(n, 1/2): [x_(j), x_(n-1-j)] covers >= 95 %.
    j = 0
    while j + 1 < n // 2 and _binom_cdf(j, n) <= 0.025:
        j += 1
    if j and _binom_cdf(j - 1, n) <= 0.025:
        lo, hi = xs[j - 1], xs[n - j]
    else:
        lo, hi = xs[0], xs[-1]  # too few runs for a 95 % interval narrower than the range
    return Summary(mid, lo, hi, n)


@cache
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """Number of arrangements giving each U statistic (no ties), by recursion on the largest value."""
    if n1 == 0 or n2 == 0:
        return (1,)
    a = _u_counts(n1 - 1, n2)  # largest value from sample 1: it beats all n2
    b = _u_counts(n1, n2 - 1)
    out = [0] * (n1 * n2 + 1)
    for u, c in enumerate(a):
        out[u + n2] += c
    for u, c in enumerate(b):
        out[u] += c
    return tuple(out)


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test of x against y."""
    n1, n2 = len(x), len(y)
    if not n1 or not n2:
        return 1.0
    pooled = sorted([(v, 0) for v in x] + [(v, 1) for v in y])
    ranks = [0.0] * len(pooled)
    i = 0
    ties: list[int] = []
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        ties.append(j - i + 1)
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, pooled, strict=True) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    if all(t == 1 for t in ties) and n1 * n2 <= 400:
        counts = _u_counts(n1, n2)
        total = sum(counts)
        p = 2 * sum(counts[: int(u) + 1]) / total
        return min(1.0, p)
    n = n1 + n2
    tie = sum(t ** 3 - t for t in ties) / (n * (n - 1))
    sd = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie))
    if sd == 0:
        return 1.0
    z = (abs(u - n1 * n2 / 2) - 0.5) / sd
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))
