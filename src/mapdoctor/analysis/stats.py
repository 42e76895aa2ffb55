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


def poisson(k: float, z: float = Z95) -> tuple[float, float]:
    """Approximate 95 % interval of a Poisson mean from one count ``k``.

    The square-root (variance-stabilising) form: ``(sqrt(k) - z/2)^2 .. (sqrt(k + 1) + z/2)^2``.
    It is within a few percent of the exact (Garwood) interval from k = 1 up, and gives 0 ..
    about 3.8 at k = 0, where the exact upper bound is 3.7.
    """
    k = max(k, 0.0)
    low = 0.0 if k <= 0 else max(0.0, math.sqrt(k) - z / 2) ** 2
    high = (math.sqrt(k + 1) + z / 2) ** 2
    return min(low, k), max(high, k)


#: What a sample size counts, in the words a report uses (singular, plural).
UNITS = {
    "samples": ("sample", "samples"),
    "goroutines": ("goroutine", "goroutines"),
    "events": ("contention event", "contention events"),
}

#: Where a measured share stands against the threshold that makes it a cause.
CONFIRMED = "confirmed"  # the whole 95 % interval is at or above the threshold
PROBABLE = "probable"  # only the point estimate is


@dataclass(frozen=True, slots=True)
class Share:
    """A proportion with its sample size and 95 % interval."""

    value: float  # point estimate, 0..1
    low: float
    high: float
    samples: int  # n the interval rests on
    unit: str = "samples"  # a key of UNITS

    @classmethod
    def of(cls, k: float, n: float, unit: str = "samples") -> Share:
        lo, hi = wilson(k, n)
        return cls(k / n if n else 0.0, lo, hi, round(n), unit)

    @classmethod
    def of_fraction(cls, p: float, n: float, unit: str = "samples") -> Share:
        """The share ``p`` measured on ``n`` samples (k = p * n, weighted samples allowed)."""
        return cls.of(min(max(p, 0.0), 1.0) * n, n, unit)

    def plus(self, extra: float) -> Share:
        """The same measurement with ``extra`` (an amount measured on the same samples) added."""
        return Share.of_fraction(self.value + extra, self.samples, self.unit)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def status(self, threshold: float) -> str | None:
        """``confirmed`` when the lower bound clears ``threshold``, ``probable`` when only the
        point estimate does, None below it."""
        if self.low >= threshold:
            return CONFIRMED
        if self.value >= threshold:
            return PROBABLE
        return None

    def count_text(self) -> str:
        one, many = UNITS.get(self.unit, (self.unit, self.unit))
        return f"{self.samples} {one if self.samples == 1 else many}"

    @property
    def lopsided(self) -> bool:
        """Whether "± half width" would misstate the interval: near 0 % (or 100 %) with few samples
        the interval is much longer on one side (3 of 44: 6.8 %, 2.3-18.1 %)."""
        hw = self.half_width
        return hw > 0 and min(self.value - self.low, self.high - self.value) < 0.65 * hw

    def _spread(self) -> str:
        if self.lopsided:
            return f"{100 * self.value:.1f}% (95%: {100 * self.low:.1f}-{100 * self.high:.1f}%"
        return f"{100 * self.value:.1f}% ± {100 * self.half_width:.1f}% ("

    def text(self) -> str:
        """``9.0% ± 4.1% (45 samples)``: the way a report shows it (``6.8% (95%: 2.3-18.1%, 44
        samples)`` when the interval is lopsided)."""
        sep = ", " if self.lopsided else ""
        return f"{self._spread()}{sep}{self.count_text()})"

    def inline_text(self) -> str:
        """``9.0% ± 4.1%, 45 samples``: for use inside parentheses."""
        if self.lopsided:
            return f"{100 * self.value:.1f}%, 95% interval {100 * self.low:.1f}-{100 * self.high:.1f}%, " \
                   f"{self.count_text()}"
        return f"{100 * self.value:.1f}% ± {100 * self.half_width:.1f}%, {self.count_text()}"

    def as_dict(self) -> dict[str, float | int | str]:
        return {"low": round(self.low, 4), "high": round(self.high, 4), "samples": self.samples,
                "unit": self.unit}
