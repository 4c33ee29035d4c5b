"""The statistics against GrowthBook's engine (gbstats, the peer) and against repetition.

gbstats pins pandas < 2 and numpy < 2 in its metadata but its frequentist tests run on the
current ones; the README's test command installs it with ``--no-deps`` as the test oracle.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
    compute_theta,
)
from gbstats.utils import check_srm
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from journeykit.prove.stats import (
    Moments,
    adjusted_moments,
    cuped_theta,
    fixed_horizon,
    km_median,
    km_reached,
    sample_size,
    sequential,
    srm_p_value,
)

COUNTS = [
    (1000, 100, 1000, 130),
    (126, 20, 1243, 571),
    (5000, 1200, 45000, 11250),
    (40, 3, 400, 50),
    (2000, 1990, 2000, 1995),
    (300, 150, 2700, 1300),
]


def _close(ours: float, theirs: float) -> None:
    assert ours == pytest.approx(theirs, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(("na", "xa", "nb", "xb"), COUNTS)
@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_fixed_horizon_equals_gbstats(na: int, xa: int, nb: int, xb: int, kind: str) -> None:
    a, b = ProportionStatistic(n=na, sum=xa), ProportionStatistic(n=nb, sum=xb)
    theirs = TwoSidedTTest(a, b, FrequentistConfig(difference_type=kind)).compute_result()
    ours = fixed_horizon(
        Moments.proportion(na, xa), Moments.proportion(nb, xb), relative=kind == "relative"
    )
    assert ours is not None
    _close(ours.estimate, theirs.expected)
    _close(ours.ci_low, theirs.ci[0])
    _close(ours.ci_high, theirs.ci[1])
    assert ours.p_value is not None
    _close(ours.p_value, theirs.p_value)


@pytest.mark.parametrize(("na", "xa", "nb", "xb"), COUNTS)
@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_sequential_equals_gbstats(na: int, xa: int, nb: int, xb: int, kind: str) -> None:
    a, b = ProportionStatistic(n=na, sum=xa), ProportionStatistic(n=nb, sum=xb)
    config = SequentialConfig(difference_type=kind)  # tuning parameter: the default, 5000
    theirs = SequentialTwoSidedTTest(a, b, config).compute_result()
    ours = sequential(
        Moments.proportion(na, xa), Moments.proportion(nb, xb), relative=kind == "relative"
    )
    assert ours is not None
    _close(ours.ci_low, theirs.ci[0])
    _close(ours.ci_high, theirs.ci[1])
    assert ours.p_value is not None
    _close(ours.p_value, theirs.p_value)
    fixed = fixed_horizon(Moments.proportion(na, xa), Moments.proportion(nb, xb))
    assert fixed is not None and ours.width > fixed.width  # the price of looking any time


def test_srm_equals_gbstats() -> None:
    for users, weights in [
        ([900, 100], [0.9, 0.1]),
        ([850, 150], [0.9, 0.1]),
        ([500, 520], [1, 1]),
    ]:
        _close(srm_p_value(users, weights), check_srm(users, weights))
    assert srm_p_value([850, 150], [0.9, 0.1]) < 0.001 < srm_p_value([905, 95], [0.9, 0.1])


def test_cuped_equals_gbstats_regression_adjustment() -> None:
    rng = np.random.default_rng(1)
    pre_a, pre_b = rng.poisson(3, 800).astype(float), rng.poisson(3, 7000).astype(float)
    post_a = (rng.random(800) < 0.1 + 0.04 * pre_a).astype(float)
    post_b = (rng.random(7000) < 0.13 + 0.04 * pre_b).astype(float)

    def stat(post: np.ndarray, pre: np.ndarray) -> RegressionAdjustedStatistic:
        return RegressionAdjustedStatistic(
            n=post.size,
            post_statistic=ProportionStatistic(n=post.size, sum=post.sum()),
            pre_statistic=SampleMeanStatistic(
                n=pre.size, sum=pre.sum(), sum_squares=(pre**2).sum()
            ),
            post_pre_sum_of_products=(post * pre).sum(),
            theta=0,
        )

    sa, sb = stat(post_a, pre_a), stat(post_b, pre_b)
    theta = compute_theta(sa, sb)
    _close(cuped_theta(np.r_[post_a, post_b], np.r_[pre_a, pre_b]), theta)
    sa.theta = sb.theta = theta
    theirs = TwoSidedTTest(sa, sb, FrequentistConfig(difference_type="absolute")).compute_result()
    ours = fixed_horizon(
        adjusted_moments(post_a, pre_a, theta), adjusted_moments(post_b, pre_b, theta)
    )
    assert ours is not None
    _close(ours.estimate, theirs.expected)
    _close(ours.ci_low, theirs.ci[0])
    _close(ours.ci_high, theirs.ci[1])
    plain = fixed_horizon(
        Moments.proportion(800, int(post_a.sum())), Moments.proportion(7000, int(post_b.sum()))
    )
    assert plain is not None and ours.width < plain.width  # a predictive covariate narrows it


def test_degenerate_arms_give_no_interval_rather_than_a_wrong_one() -> None:
    assert fixed_horizon(Moments.proportion(100, 0), Moments.proportion(100, 0)) is None
    assert fixed_horizon(Moments.proportion(1, 1), Moments.proportion(100, 5)) is None
    assert (
        fixed_horizon(Moments.proportion(100, 0), Moments.proportion(100, 5), relative=True) is None
    )
    some = fixed_horizon(Moments.proportion(100, 0), Moments.proportion(100, 5))
    assert some is not None and some.estimate == pytest.approx(0.05)


def test_planted_lift_is_covered_in_about_95_percent() -> None:
    """1,000 experiments with a true lift of 4 points: the 95% interval covers it 93-97%."""
    rng = np.random.default_rng(2024)
    p0, lift, n0, n1 = 0.2, 0.04, 600, 5400
    covered = 0
    for _ in range(1000):
        x0, x1 = rng.binomial(n0, p0), rng.binomial(n1, p0 + lift)
        e = fixed_horizon(Moments.proportion(n0, int(x0)), Moments.proportion(n1, int(x1)))
        assert e is not None
        covered += e.ci_low <= lift <= e.ci_high
    assert 930 <= covered <= 970


def test_daily_looks_at_an_aa_test_sequential_holds_naive_does_not() -> None:
    """A/A experiments looked at every day for 30 days: the sequential interval excludes 0 on
    some day in at most 5% of them; the fixed-horizon interval, looked at daily, far more."""
    rng = np.random.default_rng(7)
    runs, days, per_day, p = 600, 30, 60, 0.3
    seq_false = naive_false = 0
    for _ in range(runs):
        arm = rng.random((days, per_day)) < 0.5
        hit = rng.random((days, per_day)) < p
        n1 = np.cumsum(arm.sum(axis=1))
        x1 = np.cumsum((arm & hit).sum(axis=1))
        n0 = np.cumsum((~arm).sum(axis=1))
        x0 = np.cumsum((~arm & hit).sum(axis=1))
        s_hit = f_hit = False
        for d in range(days):
            a, b = (
                Moments.proportion(int(n0[d]), int(x0[d])),
                Moments.proportion(int(n1[d]), int(x1[d])),
            )
            s, f = sequential(a, b), fixed_horizon(a, b)
            s_hit |= s is not None and s.excludes_zero()
            f_hit |= f is not None and f.excludes_zero()
        seq_false += s_hit
        naive_false += f_hit
    assert seq_false / runs <= 0.05
    assert naive_false / runs > 0.12  # the reason for the sequential interval


def test_daily_looks_with_a_small_holdout_the_verdict_holds() -> None:
    """A 10% holdout: the asymptotic interval is loose on the first days' tiny holdout, which is
    why no verdict is given below MIN_PER_ARM decided entries; with that rule, at most 5%."""
    from journeykit.prove.proof import MIN_PER_ARM

    rng = np.random.default_rng(11)
    runs, days, per_day, p = 400, 30, 200, 0.1
    false = 0
    for _ in range(runs):
        arm = rng.random((days, per_day)) >= 0.1
        hit = rng.random((days, per_day)) < p
        n1, x1 = np.cumsum(arm.sum(1)), np.cumsum((arm & hit).sum(1))
        n0, x0 = np.cumsum((~arm).sum(1)), np.cumsum((~arm & hit).sum(1))
        for d in range(days):
            if min(n0[d], n1[d]) < MIN_PER_ARM:
                continue
            s = sequential(
                Moments.proportion(int(n0[d]), int(x0[d])),
                Moments.proportion(int(n1[d]), int(x1[d])),
            )
            if s is not None and s.excludes_zero():
                false += 1
                break
    assert false / runs <= 0.05


def test_sample_size_gives_the_power_it_promises() -> None:
    s = sample_size(0.2, 0.05, holdout_share=0.2)
    assert s.entries == s.holdout + s.treatment and s.holdout == math.ceil(s.entries * 0.2)
    rng = np.random.default_rng(5)
    wins = 0
    for _ in range(1000):
        x0, x1 = rng.binomial(s.holdout, 0.2), rng.binomial(s.treatment, 0.25)
        e = fixed_horizon(
            Moments.proportion(s.holdout, int(x0)), Moments.proportion(s.treatment, int(x1))
        )
        wins += e is not None and e.ci_low > 0
    assert 0.76 <= wins / 1000 <= 0.84
    assert sample_size(0.2, 0.05, holdout_share=0.1).entries > s.entries  # smaller holdout, longer
    with pytest.raises(ValueError, match="base rate"):
        sample_size(1.2, 0.05)


def test_kaplan_meier_counts_open_entries_as_censored() -> None:
    d = np.array([1.0, 2, 3, 4, 5, 6, 7, 8])
    reached = np.array([1, 1, 1, 1, 0, 0, 1, 0], dtype=bool)
    # S: 7/8, 6/8, 5/8, 4/8 at day 4: the median is 4 (by hand).
    assert km_median(d, reached) == 4.0
    assert km_reached(d, reached, np.array([0.0, 2.5, 7.0])) == pytest.approx([0, 0.25, 0.75])
    # Counting the censored as failures at the end would give 5/8 reached, not 3/4.
    assert km_median(d, np.zeros(8, dtype=bool)) is None


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 12), st.booleans()), min_size=1, max_size=60),
    st.lists(st.floats(-1, 14, allow_nan=False), min_size=1, max_size=10),
)
# Survival of exactly one half at day 2 (8/12 * 7/8 * 6/7): the median is day 2.
@example([(0, True)] * 4 + [(1, True)] + [(2, False)] * 6 + [(2, True)], [0.0])
def test_kaplan_meier_equals_scipy_ecdf(rows: list[tuple[int, bool]], grid: list[float]) -> None:
    """Whole-day durations, so an entry censored on the day another reaches the goal is common."""
    d = np.array([float(t) for t, _ in rows])
    reached = np.array([r for _, r in rows], dtype=bool)
    at = np.array(grid)
    if not reached.any():
        assert km_median(d, reached) is None
        return
    sf = scipy_stats.ecdf(scipy_stats.CensoredData(uncensored=d[reached], right=d[~reached])).sf
    assert km_reached(d, reached, at) == pytest.approx(1 - sf.evaluate(at), abs=1e-12)
    below = np.flatnonzero(sf.probabilities <= 0.5)
    assert km_median(d, reached) == (float(sf.quantiles[below[0]]) if below.size else None)


@pytest.mark.parametrize(
    ("control", "treatment"),
    [((40, 0.3), (45, 0.5)), ((3, 0.0), (4, 0.5)), ((5000, 0.21), (45000, 0.215))],
)
def test_fixed_horizon_and_srm_equal_scipy_stats(
    control: tuple[int, float], treatment: tuple[int, float]
) -> None:
    """Welch's t test as scipy.stats computes it, from the same moments."""
    (n0, p0), (n1, p1) = control, treatment
    a = Moments(n0, p0, p0 * (1 - p0), p0)
    b = Moments(n1, p1, p1 * (1 - p1), p1)
    got = fixed_horizon(a, b)
    assert got is not None
    want = scipy_stats.ttest_ind_from_stats(
        p1, math.sqrt(b.variance), n1, p0, math.sqrt(a.variance), n0, equal_var=False
    )
    assert got.p_value == pytest.approx(want.pvalue, rel=1e-9)
    assert srm_p_value([480, 520], [1, 1]) == pytest.approx(scipy_stats.chi2.sf(1.6, 1))
    assert srm_p_value([300, 330, 370], [1, 1, 1]) == pytest.approx(scipy_stats.chi2.sf(7.4, 2))
