"""Intervals checked against published numbers, a closed form, and their coverage on simulations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from journeykit.analytics.impact import Comparison, compare
from journeykit.analytics.intervals import bootstrap, mantel_haenszel, newcombe, wilson


@pytest.mark.parametrize(
    "counts,published",
    [
        # Newcombe (1998), Table II, method 10 (hybrid score): examples (a), (b), (d), (h)
        ((56, 70, 48, 80), (0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.1705, 0.8090)),
        ((5, 56, 0, 29), (-0.0381, 0.1926)),
        ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ],
)
def test_newcombe_reproduces_the_published_intervals(
    counts: tuple[int, int, int, int], published: tuple[float, float]
) -> None:
    d = newcombe(*counts)
    assert (round(d.low, 4), round(d.high, 4)) == published
    assert d.estimate == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])


def test_wilson_matches_the_closed_form() -> None:
    # Wilson (1927): (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), z = 1.959964
    z, x, n = 1.959963984540054, 81, 263
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert wilson(x, n) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert wilson(0, 0) == (0.0, 1.0)


def test_mantel_haenszel_on_one_stratum_is_the_wald_interval() -> None:
    d = mantel_haenszel(np.array([30]), np.array([100]), np.array([20]), np.array([120]))
    p1, p0 = 0.3, 20 / 120
    se = math.sqrt(p1 * (1 - p1) / 100 + p0 * (1 - p0) / 120)
    assert d.estimate == pytest.approx(p1 - p0)
    assert (d.low, d.high) == pytest.approx((p1 - p0 - 1.959964 * se, p1 - p0 + 1.959964 * se))


def test_mantel_haenszel_weights_strata_and_skips_one_sided_ones() -> None:
    # Strata with risk differences 0.4 and 0.1, weights n1*n0/N = 25 and 12; the third has no
    # non-members, so no weight.
    a1, n1 = np.array([30, 6, 5]), np.array([50, 20, 9])
    a0, n0 = np.array([10, 6, 0]), np.array([50, 30, 0])
    d = mantel_haenszel(a1, n1, a0, n0)
    assert d.estimate == pytest.approx((25 * 0.4 + 12 * 0.1) / (25 + 12))
    # With one risk difference in every stratum (0.2 here), Sato's variance is the weighted
    # Wald variance sum(w^2 var_k) / sum(w)^2, for small strata and large ones alike.
    a1, n1, a0, n0 = np.array([25, 6]), np.array([50, 20]), np.array([15, 3]), np.array([50, 30])
    for scale in (1, 100):
        d = mantel_haenszel(a1 * scale, n1 * scale, a0 * scale, n0 * scale)
        w = n1 * n0 * scale / (n1 + n0)
        p1, p0 = a1 / n1, a0 / n0
        var = np.sum(w**2 * (p1 * (1 - p1) / (n1 * scale) + p0 * (1 - p0) / (n0 * scale)))
        assert d.estimate == pytest.approx(0.2)
        assert (d.high - d.low) / 2 == pytest.approx(1.959964 * math.sqrt(var) / w.sum(), rel=1e-6)


def test_bootstrap_is_seeded_and_brackets_the_difference_in_means() -> None:
    rng = np.random.default_rng(1)
    v1, v0 = rng.poisson(3.0, 300).astype(float), rng.poisson(2.0, 300).astype(float)
    a = bootstrap(v1, v0, lambda v: float(v.mean()), seed=4, reps=500)
    b = bootstrap(v1, v0, lambda v: float(v.mean()), seed=4, reps=500)
    assert a == b and a.low < a.estimate < a.high
    se = math.sqrt(v1.var() / 300 + v0.var() / 300)
    assert a.high - a.low == pytest.approx(2 * 1.96 * se, rel=0.15)


# --- coverage: the Must-hold of the community issue --------------------------------------------

SIMS = 200


def _binary_sims(effect: float, base: float = 0.3, n: int = 600) -> list[tuple[float, ...]]:
    """Customer-level data made directly: a member share of 40%, outcome rate base (+ effect)."""
    out = []
    for seed in range(SIMS):
        rng = np.random.default_rng(seed)
        member = rng.random(n) < 0.4
        y = (rng.random(n) < base + effect * member).astype(float)
        _, _, raw, _, _ = compare(Comparison(member, y), binary=True)
        out.append((raw.low, raw.high))
    return out


def test_interval_covers_a_planted_effect_and_excludes_zero_when_large() -> None:
    moderate = _binary_sims(0.10)
    covered = np.mean([lo <= 0.10 <= hi for lo, hi in moderate])
    assert covered >= 0.93, covered
    large = _binary_sims(0.25)
    assert np.mean([lo <= 0.25 <= hi for lo, hi in large]) >= 0.93
    assert all(lo > 0 for lo, _ in large)


def test_interval_covers_zero_when_there_is_no_effect() -> None:
    null = _binary_sims(0.0)
    assert np.mean([lo <= 0 <= hi for lo, hi in null]) >= 0.93


def _confounded(seed: int, n: int = 1200, effect: float = 0.1) -> Comparison:
    """Cohort drives both participation and the outcome; within a cohort the effect is `effect`."""
    rng = np.random.default_rng(seed)
    cohort = rng.integers(0, 3, n)
    join = np.array([0.15, 0.45, 0.8])[cohort]
    base = np.array([0.1, 0.3, 0.5])[cohort]
    member = rng.random(n) < join
    y = (rng.random(n) < base + effect * member).astype(float)
    return Comparison(member, y, cohort)


def test_stratified_estimate_is_closer_to_the_truth_when_cohort_confounds() -> None:
    raw_err, adj_err, covered = [], [], []
    for seed in range(SIMS):
        _, _, raw, adj, strata = compare(_confounded(seed), binary=True)
        assert adj is not None and strata == 3
        raw_err.append(abs(raw.estimate - 0.1))
        adj_err.append(abs(adj.estimate - 0.1))
        covered.append(adj.low <= 0.1 <= adj.high)
    assert np.mean(adj_err) < np.mean(raw_err) / 3
    assert np.mean([a < r for a, r in zip(adj_err, raw_err, strict=True)]) > 0.9
    assert np.mean(covered) >= 0.93


def test_non_binary_outcomes_use_the_bootstrap_with_strata() -> None:
    rng = np.random.default_rng(5)
    cohort = rng.integers(0, 2, 600)
    member = rng.random(600) < np.where(cohort == 1, 0.7, 0.2)
    y = rng.poisson(np.where(cohort == 1, 3.0, 1.0) + 0.5 * member).astype(float)
    g1, g0, raw, adj, _ = compare(Comparison(member, y, cohort), binary=False, reps=400)
    assert g1.rate == pytest.approx(y[member].mean()) and g0.rate == pytest.approx(
        y[~member].mean()
    )
    assert raw.method == "bootstrap" and adj is not None
    assert abs(adj.estimate - 0.5) < abs(raw.estimate - 0.5)
    assert adj.low < 0.5 < adj.high
