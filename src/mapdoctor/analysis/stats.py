"""How sure a share is: intervals for proportions estimated from samples.

A CPU profile's "40 % in map growth" is a count of 10 ms samples, k of n: a binomial
proportion. With 45 samples its 95 % interval is about ±14 points, so a share near a
threshold must not decide a verdict on its point estimate alone. The Wilson score
interval is used because it stays inside [0, 1] and behaves at k = 0 and k = n, where the
textbook normal interval collapses to a width of zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Two-sided 95 % normal quantile.
Z95 = 1.959963984540054


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (``(0, 1)`` when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    k = min(max(k, 0.0), n)
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # The bounds are exact at the edges (k = 0, k = n); rounding must not move them inside.
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return min(low, p), max(high, p)


@dataclass(frozen=True, slots=True)
class Share:
    """A proportion with its sample size and 95 % interval."""

    value: float  # point estimate, 0..1
    low: float
    high: float
    samples: int  # n the interval rests on

    @classmethod
    def of(cls, k: float, n: float) -> Share:
        lo, hi = wilson(k, n)
        return cls(k / n if n else 0.0, lo, hi, round(n))

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def text(self) -> str:
        """``9.0% ± 4.1% (45 samples)``: the way a report shows it."""
        unit = "sample" if self.samples == 1 else "samples"
        return f"{100 * self.value:.1f}% ± {100 * self.half_width:.1f}% ({self.samples} {unit})"
