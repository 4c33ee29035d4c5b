"""Predictions against independent computations (Monte Carlo, integration, published tables)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from journeykit.clv import (
    RFM,
    BetaGeo,
    BetaGeoParams,
    GammaGamma,
    ModifiedBetaGeo,
    NotFittedError,
    ParetoNBD,
    ParetoNBDParams,
    Renewals,
    ShiftedBetaGeometric,
    calibration_holdout,
    discounted_clv,
    holdout_check,
)

BG = BetaGeoParams(0.243, 4.414, 0.793, 2.426)
PARETO = ParetoNBDParams(0.553, 10.578, 0.606, 11.669)


def _bg_posterior_expectation(p: BetaGeoParams, x: int, t_x: float, age: float, t: float) -> float:
    """E[Y(t) | data] = ∫∫ P(alive, data | λ, q) E[Y(t) | λ, q, alive] g f / ∫∫ L g f by quadrature;
    E[Y(t) | λ, q, alive] = (1 − e^{−λqt}) / q (FHL 2005 eq. 7)."""

    def prior(lam: float, q: float) -> float:
        return math.exp(
            p.r * math.log(p.alpha)
            + (p.r - 1) * math.log(lam)
            - p.alpha * lam
            - math.lgamma(p.r)
            + (p.a - 1) * math.log(q)
            + (p.b - 1) * math.log1p(-q)
            - (math.lgamma(p.a) + math.lgamma(p.b) - math.lgamma(p.a + p.b))
        )

    def alive(lam: float, q: float) -> float:
        return (1 - q) ** x * lam**x * math.exp(-lam * age) * prior(lam, q)

    def died(lam: float, q: float) -> float:
        return q * (1 - q) ** (x - 1) * lam**x * math.exp(-lam * t_x) * prior(lam, q) if x else 0.0

    opts = {"epsabs": 0, "epsrel": 1e-9}
    top = integrate.dblquad(
        lambda lam, q: alive(lam, q) * -math.expm1(-lam * q * t) / q, 0, 1, 0, 15, **opts
    )[0]
    bottom = integrate.dblquad(lambda lam, q: alive(lam, q) + died(lam, q), 0, 1, 0, 15, **opts)[0]
    return top / bottom


@pytest.mark.parametrize(("x", "t_x", "age"), [(0, 0.0, 38.86), (2, 30.43, 38.86), (6, 20.0, 32.0)])
def test_bg_conditional_expectation_matches_quadrature(x: int, t_x: float, age: float) -> None:
    model = BetaGeo.from_params(BG)
    got = model.expected_purchases_at([x], [t_x], [age], horizon=39.0)[0]
    assert got == pytest.approx(_bg_posterior_expectation(BG, x, t_x, age, 39.0), rel=1e-5)


def test_pareto_conditional_expectation_by_monte_carlo() -> None:
    """Draw (λ, μ) from the posterior by importance weights and simulate the next 39 weeks."""
    rng = np.random.default_rng(12)
    x, t_x, age, horizon, n = 4, 30.0, 38.86, 39.0, 400_000
    lam = rng.gamma(PARETO.r + x, 1 / (PARETO.alpha + age), n)  # λ posterior given alive to T
    mu = rng.gamma(PARETO.s, 1 / PARETO.beta, n)
    # weight: P(data | λ, μ) / (λ^x e^{-λT}) ∝ e^{-μT} + μ ∫_{t_x}^{T} e^{-(λ+μ)τ} dτ · e^{λT}
    died = (
        mu
        / (lam + mu)
        * (np.exp(-(lam + mu) * t_x) - np.exp(-(lam + mu) * age))
        * np.exp(lam * age)
    )
    alive_w = np.exp(-mu * age)
    weight = alive_w + died
    p_alive = alive_w / weight
    future = p_alive * lam / mu * -np.expm1(-mu * horizon)
    mc = float(np.sum(weight * future) / np.sum(weight))
    model = ParetoNBD.from_params(PARETO)
    got = model.expected_purchases_at([x], [t_x], [age], horizon=horizon)[0]
    assert got == pytest.approx(mc, rel=0.02)
    mc_alive = float(np.sum(weight * p_alive) / np.sum(weight))
    assert model.probability_alive_at([x], [t_x], [age])[0] == pytest.approx(mc_alive, rel=0.02)


def test_probability_alive_properties(cdnow: RFM) -> None:
    for model in (
        BetaGeo.from_params(BG),
        ModifiedBetaGeo.from_params(BG),
        ParetoNBD.from_params(PARETO),
    ):
        alive = model.probability_alive(cdnow)
        assert np.all((alive >= 0) & (alive <= 1)), model
        recent = model.probability_alive_at([5, 5], [38.0, 5.0], [38.86, 38.86])
        assert recent[0] > recent[1], model  # the same buyer, last seen recently, is likelier alive
    bg_alive = BetaGeo.from_params(BG).probability_alive(cdnow)
    assert np.all(bg_alive[cdnow.frequency == 0] == 1.0)  # BG/NBD: no drop-out before a repeat


def test_heavy_buyers_stay_finite() -> None:
    x, t_x, age = [500, 2000], [38.0, 38.8], [38.86, 38.86]
    for model in (
        BetaGeo.from_params(BG),
        ModifiedBetaGeo.from_params(BG),
        ParetoNBD.from_params(PARETO),
    ):
        got = model.expected_purchases_at(x, t_x, age, horizon=10.0)
        assert np.all(np.isfinite(got)) and np.all(got > 0), model
        # never more than the observed rate x/T over the horizon (silence since t_x can only
        # lower it: 500 buyers quiet for 0.86 weeks, ~11 expected purchases, are likely gone)
        rate = np.array([500, 2000]) / 38.86 * 10
        assert np.all(got <= rate * 1.02), (model, got, rate)


def test_expected_purchases_new_is_the_zero_history_case() -> None:
    for model in (BetaGeo.from_params(BG), ParetoNBD.from_params(PARETO)):
        zero = model.expected_purchases_at([0], [0.0], [0.0], horizon=52.0)[0]
        assert model.expected_purchases_new(52.0)[0] == pytest.approx(zero)


def test_discounted_clv_matches_a_hand_loop(cdnow: RFM) -> None:
    bg, gg = BetaGeo().fit(cdnow), GammaGamma().fit(cdnow)
    result = discounted_clv(bg, gg, cdnow, horizon=12, discount_rate=0.01, time_unit="W")
    i = 1  # customer 2: x=1
    value = (
        gg.params_.p
        * (gg.params_.v + cdnow.frequency[i] * cdnow.monetary_value[i])
        / (  # type: ignore[index]
            gg.params_.p * cdnow.frequency[i] + gg.params_.q - 1
        )
    )
    hand, previous = 0.0, 0.0
    for month in range(1, 13):
        cum = bg.expected_purchases_at([1], [1.71], [38.86], horizon=month * 4.345)[0]
        hand += (cum - previous) * value / 1.01**month
        previous = cum
    assert result.clv[i] == pytest.approx(hand, rel=1e-10)
    assert result.to_pandas().shape == (2357, 4)
    assert result.to_dict()["customers"] == 2357


def test_holdout_check_table(cdnow_transactions) -> None:  # type: ignore[no-untyped-def]
    split = calibration_holdout(
        cdnow_transactions,
        "customer_index",
        "date",
        "value",
        calibration_end="19970930",
        observation_end="19980630",
        freq="D",
        time_unit="W",
        datetime_format="%Y%m%d",
    )
    check = holdout_check(BetaGeo().fit(split.calibration), split)
    table = check.to_pandas()
    assert list(table.frequency) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table.customers.sum() == 2357
    # FHL (2005) Fig. 4: predictions track the holdout means closely for every bucket
    np.testing.assert_allclose(table.predicted_mean, table.actual_mean, atol=0.7)
    assert check.to_dict()["buckets"][0]["frequency"] == "0"


def test_sbg_published_retention_data() -> None:
    """Fader & Hardie (2007) Table 1, first 7 years; estimates as printed in the paper."""
    high_end = ShiftedBetaGeometric().fit(
        Renewals.from_alive([1000, 869, 743, 653, 593, 551, 517, 491])
    )
    regular = ShiftedBetaGeometric().fit(
        Renewals.from_alive([1000, 631, 468, 382, 326, 289, 262, 241])
    )
    assert high_end.params_.alpha == pytest.approx(0.668, abs=5e-4)
    assert high_end.params_.beta == pytest.approx(3.806, abs=5e-4)
    assert regular.params_.alpha == pytest.approx(0.704, abs=5e-4)
    assert regular.params_.beta == pytest.approx(1.182, abs=5e-4)
    s = high_end.survival(np.arange(0, 8))
    np.testing.assert_allclose(s[1:] / s[:-1], high_end.retention_rate(np.arange(1, 8)))
    direct = float(np.sum(high_end.survival(np.arange(0, 3000)) / 1.1 ** np.arange(3000)))
    assert high_end.discounted_expected_lifetime(0.1) == pytest.approx(direct, rel=1e-9)


def test_unfitted_model_says_so() -> None:
    with pytest.raises(NotFittedError, match="BetaGeo is not fitted"):
        BetaGeo().probability_alive_at([1], [1.0], [2.0])


@pytest.mark.parametrize("model", [BetaGeo, ModifiedBetaGeo, ParetoNBD])
@pytest.mark.parametrize("unit", [1.0, 1 / 7])  # whole days share (x, T); fractions of weeks too
def test_expected_purchases_by_horizon_is_expected_purchases_at_per_horizon(
    model: type[BetaGeo] | type[ParetoNBD], unit: float
) -> None:
    """What the CLV's months use: BG/NBD shares P(alive) and evaluates its 2F1 once per distinct
    (x, T); every column must equal the one-horizon prediction exactly."""
    rng = np.random.default_rng(11)
    n = 5_000
    x = rng.integers(0, 6, n)
    age = rng.integers(1, 52, n) * 7 * unit
    t_x = np.where(x > 0, np.floor(age / unit * rng.uniform(0, 1, n)) * unit, 0.0)
    fitted = model.from_params(PARETO if model is ParetoNBD else BG)
    horizons = [4.345 * m for m in range(1, 13)]
    got = fitted.expected_purchases_by_horizon(x, t_x, age, horizons=horizons)
    for j, h in enumerate(horizons):
        np.testing.assert_array_equal(
            got[:, j], fitted.expected_purchases_at(x, t_x, age, horizon=h)
        )
