"""P(exactly n purchases): new customers against BTYD's published values (via lifetimes' tests),
existing customers against the conditional expectation already checked against Hardie's sheet."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from journeykit.clv import BetaGeo, BetaGeoParams, ModifiedBetaGeo, ParetoNBD, ParetoNBDParams

BG = BetaGeoParams(0.243, 4.414, 0.793, 2.426)  # FHL (2005), CDNOW, weeks
PARETO = ParetoNBDParams(0.553, 10.578, 0.606, 11.669)
CUSTOMERS = ([2, 0, 6, 26], [30.43, 0.0, 20.0, 30.86], [38.86, 38.86, 32.0, 31.0])


def test_bg_nbd_new_customer_matches_btyd() -> None:
    """BTYD's bgnbd.pmf documentation examples, as asserted in lifetimes'
    tests/test_estimation.py::test_probability_of_n_purchases_up_to_time_same_as_R_BTYD."""
    model = BetaGeo.from_params(BG)
    assert model.probability_of_purchases_new(10, 2.0) == pytest.approx(1.07869e-07, rel=1e-5)
    assert model.probability_of_purchases_new(0, 39.0) == pytest.approx(0.5737864, rel=1e-6)
    btyd_pmf_t30 = [0.0019995214, 0.0015170236, 0.0011633150, 0.0009003148, 0.0007023638,
                    0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613, 0.0002222260]  # fmt: skip
    got = [model.probability_of_purchases_new(n, 30.0) for n in range(11, 21)]
    np.testing.assert_allclose(got, btyd_pmf_t30, rtol=1e-6)


@pytest.mark.parametrize("model_type", [BetaGeo, ModifiedBetaGeo])
def test_bg_family_pmf_is_a_distribution_with_the_known_mean(model_type: type[BetaGeo]) -> None:
    model = model_type.from_params(BG)
    pmf = np.array([model.probability_of_purchases_new(n, 30.0) for n in range(600)])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    mean = float(np.arange(600) @ pmf)
    assert mean == pytest.approx(model.expected_purchases_new(30.0)[0], rel=1e-7)


def test_mbg_new_customer_by_simulation() -> None:
    """MBG/NBD's extra drop-out at time 0 (Batislam et al. 2007): a simulation of the story."""
    rng = np.random.default_rng(5)
    size, t = 400_000, 20.0
    lam, p = rng.gamma(BG.r, 1 / BG.alpha, size), rng.beta(BG.a, BG.b, size)
    count = np.minimum(rng.poisson(lam * t), rng.geometric(p) - 1)
    model = ModifiedBetaGeo.from_params(BG)
    for n in range(4):
        share = float(np.mean(count == n))
        assert model.probability_of_purchases_new(n, t) == pytest.approx(share, abs=3e-3)


def _pareto_pmf_quad(n: int, t: float, r: float, alpha: float, s: float, beta: float) -> float:
    """Schmittlein et al.'s story integrated directly over the drop-out time with scipy.quad."""

    def nb(u: float) -> float:
        log = (
            math.lgamma(r + n)
            - math.lgamma(r)
            - math.lgamma(n + 1)
            + r * math.log(alpha / (alpha + u))
        )
        return math.exp(log + (n * math.log(u / (alpha + u)) if n else 0.0))

    dropout = integrate.quad(
        lambda u: nb(u) * s * beta**s * (beta + u) ** (-s - 1),
        0,
        t,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )[0]
    return nb(t) * (beta / (beta + t)) ** s + dropout


@pytest.mark.parametrize(
    ("n", "t"), [(0, 1.0), (0, 39.0), (1, 39.0), (5, 39.0), (10, 2.0), (3, 500.0), (20, 1000.0)]
)
def test_pareto_nbd_new_customer_against_quadrature(n: int, t: float) -> None:
    got = ParetoNBD.from_params(PARETO).probability_of_purchases_new(n, t)
    assert got == pytest.approx(_pareto_pmf_quad(n, t, *PARETO), rel=1e-9)


def test_pareto_nbd_mean_matches_btyd_expectation() -> None:
    """Σ n·P(X(t)=n) against E[X(t)] (BTYD's pnbd.Expectation values in lifetimes' tests)."""
    model = ParetoNBD.from_params(PARETO)
    for t in (1.0, 5.0, 39.0):
        pmf = np.array([model.probability_of_purchases_new(n, t) for n in range(400)])
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        assert float(np.arange(400) @ pmf) == pytest.approx(
            model.expected_purchases_new(t)[0], rel=1e-8
        )
    # lifetimes' test_expectation_returns_same_value_as_R_BTYD: E[X(1)] = 0.0508 (fitted params)
    assert model.expected_purchases_new(1.0)[0] == pytest.approx(0.05077821, abs=5e-4)


@pytest.mark.parametrize(
    "model",
    [BetaGeo.from_params(BG), ModifiedBetaGeo.from_params(BG), ParetoNBD.from_params(PARETO)],
)
def test_existing_customer_pmf_sums_to_one_with_the_conditional_mean(
    model: BetaGeo | ParetoNBD,
) -> None:
    """The conditional expectation is checked against Hardie's sheet (1.226 for x=2, t_x=30.43)
    and BTYD's walkthrough (25.46 for x=26, t_x=30.86, T=31, 52 weeks) in test_predictions."""
    x, t_x, age = CUSTOMERS
    pmf = np.array(
        [model.probability_of_purchases_at(n, x, t_x, age, horizon=39.0) for n in range(300)]
    )
    assert np.all(pmf >= 0)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, atol=1e-9)
    mean = np.arange(300) @ pmf
    np.testing.assert_allclose(
        mean, model.expected_purchases_at(x, t_x, age, horizon=39.0), rtol=1e-8
    )


def test_existing_customer_pmf_by_simulation() -> None:
    """BG/NBD: draw (λ, p) from the prior, keep those whose simulated history equals the
    customer's (x = 1 in (0, 10], last at t_x in [6, 7)), then simulate 10 more weeks."""
    rng = np.random.default_rng(9)
    size, age = 2_000_000, 10.0
    lam, p = rng.gamma(BG.r, 1 / BG.alpha, size), rng.beta(BG.a, BG.b, size)
    first = rng.exponential(1 / lam)  # the first repeat purchase
    alive_after = rng.random(size) > p
    second = first + rng.exponential(1 / lam)
    keep = (first >= 6) & (first < 7) & (~alive_after | (second > age))
    lam_k, p_k, alive_k = lam[keep], p[keep], alive_after[keep]
    # alive at T: by memorylessness purchases restart at T; each may be followed by a drop-out
    count = np.zeros(lam_k.size, dtype=np.int64)
    active = alive_k.copy()
    clock = np.full(lam_k.size, age)
    while active.any():
        clock[active] += rng.exponential(1 / lam_k[active])
        bought = active & (clock <= age + 10.0)
        count[bought] += 1
        active = bought & (rng.random(lam_k.size) > p_k)
    model = BetaGeo.from_params(BG)
    for n in range(3):
        got = model.probability_of_purchases_at(n, [1], [6.5], [age], horizon=10.0)[0]
        assert got == pytest.approx(float(np.mean(count == n)), abs=0.01), n
