"""Confidence intervals for a difference between two groups, on the standard library and numpy.

Wilson score intervals for each share, Newcombe's hybrid score interval for their difference,
the Mantel-Haenszel risk difference over strata with Sato's variance, and a seeded percentile
bootstrap for metrics that are not shares. No scipy: these work on a core install.

References: Newcombe (1998), "Interval estimation for the difference between independent
proportions", Statistics in Medicine 17:873-890, method 10. Greenland & Robins (1985),
Biometrics 41:55-68, and Sato (1989), Biometrics 45:1323-1324, for the Mantel-Haenszel risk
difference and its variance (as in Rothman, Greenland & Lash, Modern Epidemiology, ch. 15).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


def z_for(level: float) -> float:
    """The two-sided normal quantile: 1.959964 for 95%."""
    return NormalDist().inv_cdf(0.5 + level / 2)


def wilson(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a share; (0, 1) when there is nobody to count."""
    if n == 0:
        return 0.0, 1.0
    z = z_for(level)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Difference:
    """A difference between two groups (first minus second) with its interval."""

    estimate: float
    low: float
    high: float
    method: str

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def newcombe(x1: int, n1: int, x0: int, n0: int, level: float = 0.95) -> Difference:
    """p1 - p0 with Newcombe's hybrid score interval (method 10) built from Wilson intervals."""
    if n1 == 0 or n0 == 0:
        return Difference(math.nan, -1.0, 1.0, "newcombe")
    p1, p0 = x1 / n1, x0 / n0
    l1, u1 = wilson(x1, n1, level)
    l0, u0 = wilson(x0, n0, level)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return Difference(d, low, high, "newcombe")


def mantel_haenszel(
    a1: np.ndarray, n1: np.ndarray, a0: np.ndarray, n0: np.ndarray, level: float = 0.95
) -> Difference:
    """Mantel-Haenszel risk difference over strata, Wald interval with Sato's variance.

    Per stratum k: ``a1`` of ``n1`` members and ``a0`` of ``n0`` non-members reached the outcome.
    Strata with nobody on one side carry no weight. Sato's variance holds both with many small
    strata and with a few large ones (Greenland & Robins' "dually consistent" estimator).
    """
    a1, n1, a0, n0 = (np.asarray(x, dtype=np.float64) for x in (a1, n1, a0, n0))
    keep = (n1 > 0) & (n0 > 0)
    a1, n1, a0, n0 = a1[keep], n1[keep], a0[keep], n0[keep]
    t = n1 + n0
    weight = float(np.sum(n1 * n0 / t))
    if weight == 0:
        return Difference(math.nan, -1.0, 1.0, "mantel-haenszel")
    rd = float(np.sum((a1 * n0 - a0 * n1) / t)) / weight
    p = np.sum((n1 * n1 * a0 - n0 * n0 * a1 + n1 * n0 * (n0 - n1) / 2) / (t * t))
    q = np.sum((a1 * (n0 - a0) + a0 * (n1 - a1)) / (2 * t))
    variance = max(float(rd * p + q) / (weight * weight), 0.0)
    half = z_for(level) * math.sqrt(variance)
    return Difference(rd, rd - half, rd + half, "mantel-haenszel")


Statistic = Callable[[np.ndarray], float]


def _weighted_difference(
    v1: np.ndarray, s1: np.ndarray, v0: np.ndarray, s0: np.ndarray, stat: Statistic
) -> float:
    """Stratum differences weighted as Mantel-Haenszel weighs them: n1 * n0 / (n1 + n0)."""
    total, weight = 0.0, 0.0
    for k in np.intersect1d(s1, s0):
        a, b = v1[s1 == k], v0[s0 == k]
        w = a.size * b.size / (a.size + b.size)
        total += w * (stat(a) - stat(b))
        weight += w
    return total / weight if weight else math.nan


def bootstrap(
    v1: np.ndarray,
    v0: np.ndarray,
    stat: Statistic,
    *,
    strata: tuple[np.ndarray, np.ndarray] | None = None,
    reps: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> Difference:
    """stat(v1) - stat(v0) with a seeded percentile bootstrap (resampling within strata)."""
    rng = np.random.default_rng(seed)
    if v1.size == 0 or v0.size == 0:
        return Difference(math.nan, math.nan, math.nan, "bootstrap")
    if strata is None:
        estimate = stat(v1) - stat(v0)
        draws = np.array(
            [stat(rng.choice(v1, v1.size)) - stat(rng.choice(v0, v0.size)) for _ in range(reps)]
        )
    else:
        s1, s0 = strata
        estimate = _weighted_difference(v1, s1, v0, s0, stat)
        draws = np.array(
            [_weighted_difference(*_resample(rng, v1, s1), *_resample(rng, v0, s0), stat)
             for _ in range(reps)]
        )  # fmt: skip
    draws = draws[~np.isnan(draws)]
    if draws.size == 0:
        return Difference(estimate, math.nan, math.nan, "bootstrap")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Difference(float(estimate), float(low), float(high), "bootstrap")


def _resample(
    rng: np.random.Generator, values: np.ndarray, strata: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    picks = [
        rng.choice(np.flatnonzero(strata == k), int((strata == k).sum())) for k in np.unique(strata)
    ]
    rows = np.concatenate(picks) if picks else np.zeros(0, dtype=np.int64)
    return values[rows], strata[rows]
