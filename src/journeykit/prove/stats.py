"""Two-arm experiment statistics: the numbers GrowthBook's stats engine gives on the same counts.

Each arm is summarised by its moments (n, mean, variance; a goal rate is a proportion with
variance p(1 - p)). The fixed-horizon interval is Welch's t interval on the difference (absolute)
or on the lift with the delta method (relative), as ``gbstats``' ``TwoSidedTTest``; the
sequential interval is the asymptotic confidence sequence of Waudby-Smith et al. (2023, eq. 9)
that ``gbstats``' ``SequentialTwoSidedTTest`` uses, valid however often it is looked at. The
tests hold both to ``gbstats`` to 1e-6. CUPED (regression adjustment on a pre-entry covariate)
follows ``gbstats``' ``RegressionAdjustedStatistic`` with the pooled theta.

Where ``gbstats`` returns nothing (a holdout rate of 0), the absolute difference is still
computed when its variance is positive; the relative one is not (it divides by that rate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

ALPHA = 0.05
SEQUENTIAL_TUNING = 5000.0  # gbstats' default: the sample size where the sequence is tightest


@dataclass(frozen=True)
class Moments:
    """One arm: its size, mean and variance; ``unadjusted`` is the mean before CUPED."""

    n: int
    mean: float
    variance: float
    unadjusted: float

    @classmethod
    def proportion(cls, n: int, reached: int) -> Moments:
        p = reached / n if n else 0.0
        return cls(n, p, p * (1 - p), p)


@dataclass(frozen=True)
class Estimate:
    """A difference (treatment - holdout) with its 95% interval and p-value."""

    estimate: float
    ci_low: float
    ci_high: float
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }
        if self.p_value is not None:
            out["p_value"] = self.p_value
        return out

    @property
    def width(self) -> float:
        return self.ci_high - self.ci_low

    def excludes_zero(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0


def _point_and_variance(a: Moments, b: Moments, relative: bool) -> tuple[float, float] | None:
    if a.n < 2 or b.n < 2:
        return None
    if relative:
        if a.unadjusted == 0 or a.mean == 0:
            return None
        point = (b.mean - a.mean) / a.unadjusted
        var = b.variance / (a.unadjusted**2 * b.n) + a.variance * b.unadjusted**2 / (
            a.unadjusted**4 * a.n
        )
    else:
        point = b.mean - a.mean
        var = b.variance / b.n + a.variance / a.n
    if not var > 0:
        return None
    return point, var


def _welch_dof(a: Moments, b: Moments) -> float:
    num = (b.variance / b.n + a.variance / a.n) ** 2
    den = b.variance**2 / (b.n**2 * (b.n - 1)) + a.variance**2 / (a.n**2 * (a.n - 1))
    return num / den


def fixed_horizon(
    control: Moments, treatment: Moments, *, relative: bool = False, alpha: float = ALPHA
) -> Estimate | None:
    """Welch's two-sided t test of treatment - control (None when it cannot be computed: an arm
    below two entries, no variance at all, or a relative lift on a control rate of 0)."""
    pv = _point_and_variance(control, treatment, relative)
    if pv is None:
        return None
    point, var = pv
    dof = _welch_dof(control, treatment)
    se = math.sqrt(var)
    p = float(2 * special.stdtr(dof, -abs(point) / se))
    width = float(special.stdtrit(dof, 1 - alpha / 2)) * se
    return Estimate(point, point - width, point + width, p)


def sequential(
    control: Moments,
    treatment: Moments,
    *,
    relative: bool = False,
    alpha: float = ALPHA,
    tuning: float = SEQUENTIAL_TUNING,
) -> Estimate | None:
    """The always-valid interval: whatever the number of looks, it misses the true difference
    with probability at most ``alpha`` (Waudby-Smith et al. 2023, asymptotic CS, eq. 9)."""
    pv = _point_and_variance(control, treatment, relative)
    if pv is None:
        return None
    point, var = pv
    n = control.n + treatment.n
    rho2 = (-2 * math.log(alpha) + math.log(-2 * math.log(alpha) + 1)) / tuning
    s2 = var * n
    width = math.sqrt(s2) * math.sqrt(
        2 * (n * rho2 + 1) * math.log(math.sqrt(n * rho2 + 1) / alpha) / (n * n * rho2)
    )
    st2 = point**2 * n / var
    tr2p1 = n * rho2 + 1
    log_e = rho2 * st2 / (2 * tr2p1) - 0.5 * math.log(tr2p1)
    p = min(math.exp(-log_e), 1.0) if log_e > -700 else 1.0
    return Estimate(point, point - width, point + width, p)


def srm_p_value(observed: list[int], weights: list[float]) -> float:
    """Sample-ratio mismatch: the chi-square test of arm sizes against the designed shares."""
    total = sum(observed)
    if not total:
        return 1.0
    expected = np.array(weights, dtype=np.float64) / sum(weights) * total
    keep = expected > 0
    obs = np.array(observed, dtype=np.float64)[keep]
    x = float(((obs - expected[keep]) ** 2 / expected[keep]).sum())
    return float(special.chdtrc(len(observed) - 1, x))


def adjusted_moments(post: np.ndarray, pre: np.ndarray, theta: float) -> Moments:
    """CUPED: the arm's goal rate less ``theta`` times its pre-entry covariate's mean."""
    n = post.size
    p = float(post.mean()) if n else 0.0
    var_post = p * (1 - p)
    var_pre = float(pre.var(ddof=1)) if n > 1 else 0.0
    cov = float(((post - p) * (pre - pre.mean())).sum() / (n - 1)) if n > 1 else 0.0
    mean = p - theta * (float(pre.mean()) if n else 0.0)
    return Moments(n, mean, var_post + theta**2 * var_pre - 2 * theta * cov, p)


def cuped_theta(post: np.ndarray, pre: np.ndarray) -> float:
    """Pooled over both arms: cov(goal, covariate) / var(covariate)."""
    n = post.size
    if n < 2:
        return 0.0
    p = float(post.mean())
    var_pre = float(pre.var(ddof=1))
    if var_pre == 0 or p * (1 - p) == 0:
        return 0.0
    cov = float(((post - p) * (pre - pre.mean())).sum() / (n - 1))
    return cov / var_pre


@dataclass(frozen=True)
class SampleSize:
    """Entries a play needs to detect ``lift`` (absolute) at ``base_rate`` with this holdout."""

    base_rate: float
    lift: float
    holdout_share: float
    alpha: float
    power: float
    entries: int  # decided entries in total, both arms
    holdout: int
    treatment: int

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def sample_size(
    base_rate: float,
    lift: float,
    *,
    holdout_share: float = 0.1,
    alpha: float = ALPHA,
    power: float = 0.8,
) -> SampleSize:
    """The normal-approximation size of a two-sided test of two rates with unequal arms
    (unpooled variances, as the test itself uses)."""
    if not 0 < base_rate < 1:
        raise ValueError(f"base rate: expected a share between 0 and 1, got {base_rate}")
    if not 0 < base_rate + lift <= 1 or lift == 0:
        raise ValueError(f"lift: expected a non-zero change keeping the rate in (0, 1], got {lift}")
    if not 0 < holdout_share < 1:
        raise ValueError(f"holdout share: expected a share between 0 and 1, got {holdout_share}")
    if not 0 < power < 1 or not 0 < alpha < 1:
        raise ValueError("alpha and power: expected shares between 0 and 1")
    p0, p1, h = base_rate, base_rate + lift, holdout_share
    z = special.ndtri(1 - alpha / 2) + special.ndtri(power)
    total = z**2 * (p0 * (1 - p0) / h + p1 * (1 - p1) / (1 - h)) / lift**2
    entries = math.ceil(total)
    held = math.ceil(entries * h)
    return SampleSize(p0, lift, h, alpha, power, entries, held, entries - held)


def km_median(durations: np.ndarray, reached: np.ndarray) -> float | None:
    """The Kaplan-Meier median of time to goal: entries still open or closed without the goal
    are censored at the time they were observed. None when fewer than half ever get there."""
    if durations.size == 0 or not reached.any():
        return None
    times, survival = _survival(durations, reached)
    below = np.flatnonzero(survival <= 0.5)
    return float(times[below[0]]) if below.size else None


def km_reached(durations: np.ndarray, reached: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The Kaplan-Meier share reaching the goal by each time of ``grid`` (1 - survival)."""
    if durations.size == 0 or not reached.any():
        return np.zeros(grid.size)
    times, survival = _survival(durations, reached)
    return np.asarray(1 - np.r_[1.0, survival][np.searchsorted(times, grid, side="right")])


def _survival(durations: np.ndarray, reached: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The product-limit estimator: each time the goal was reached, and the share not yet there
    just after it. An entry censored at that very time still counts at risk (as scipy.stats.ecdf
    does; the tests hold the two equal — importing scipy.stats cost prove 0.7 s of CPU)."""
    times, reach = np.unique(durations[reached], return_counts=True)
    at_risk = durations.size - np.searchsorted(np.sort(durations), times, side="left")
    # (n - d) / n, as scipy computes it: 1 - d / n rounds differently, and a survival of exactly
    # one half (8/12 * 7/8 * 6/7) then lands above 0.5 and the median is lost.
    return times, np.cumprod((at_risk - reach) / at_risk)
