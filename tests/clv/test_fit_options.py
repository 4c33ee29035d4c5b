"""Customer weights on fit, Gamma-Gamma's q constraint, Pareto/NBD DERT and sBG DERL."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, special

from journeykit.clv import (
    RFM,
    BetaGeo,
    GammaGamma,
    GammaGammaParams,
    ParetoNBD,
    ParetoNBDParams,
    RFMError,
    ShiftedBetaGeometric,
    simulate_spend,
)


def _aggregated(rfm: RFM) -> tuple[RFM, np.ndarray]:
    df = (
        rfm.to_pandas()
        .groupby(["frequency", "recency", "T"])
        .agg(w=("T", "size"), m=("monetary_value", "first"))
    )
    df = df.reset_index()
    agg = RFM(
        frequency=df.frequency.to_numpy(), recency=df.recency.to_numpy(), T=df["T"].to_numpy()
    )
    return agg, df.w.to_numpy()


@pytest.mark.parametrize("model_type", [BetaGeo, ParetoNBD])
def test_weights_equal_repeated_rows(
    cdnow: RFM, model_type: type[BetaGeo] | type[ParetoNBD]
) -> None:
    """lifetimes' test_fit_with_and_without_weights: aggregated rows with counts fit the same
    parameters as one row per customer."""
    agg, w = _aggregated(cdnow)
    assert len(agg) < len(cdnow)
    full = model_type().fit(cdnow)
    weighted = model_type().fit(agg, weights=w)
    np.testing.assert_allclose(np.asarray(weighted.params_), np.asarray(full.params_), rtol=1e-5)
    assert weighted.customers_ == len(cdnow)
    assert weighted.log_likelihood_ == pytest.approx(full.log_likelihood_, rel=1e-9)


def test_gamma_gamma_weights(cdnow: RFM) -> None:
    buyers = cdnow.repeat_buyers()
    twice = RFM(
        frequency=np.r_[buyers.frequency, buyers.frequency],
        recency=np.r_[buyers.recency, buyers.recency],
        T=np.r_[buyers.T, buyers.T],
        monetary_value=np.r_[buyers.monetary_value, buyers.monetary_value],  # type: ignore[arg-type]
    )
    doubled = GammaGamma().fit(buyers, weights=np.full(len(buyers), 2.0))
    np.testing.assert_allclose(
        np.asarray(doubled.params_), np.asarray(GammaGamma().fit(twice).params_), rtol=1e-6
    )


def test_bad_weights_are_named() -> None:
    rfm = RFM(frequency=[1, 0], recency=[2.0, 0.0], T=[3.0, 3.0])
    with pytest.raises(RFMError, match="row 1, column 'weights'"):
        BetaGeo().fit(rfm, weights=[1.0, -2.0])
    with pytest.raises(RFMError, match="weights"):
        BetaGeo().fit(rfm, weights=[1.0])


def test_q_constraint_reproduces_the_note_when_it_does_not_bind(cdnow: RFM) -> None:
    """lifetimes' test_params_out_is_close_to_Hardie_paper_with_q_constraint: note 025's
    p=6.25, q=3.74, v=15.44 with the constraint on."""
    model = GammaGamma().fit(cdnow, q_constraint=True)
    np.testing.assert_allclose(np.asarray(model.params_), [6.25, 3.74, 15.44], atol=0.01)
    free = GammaGamma().fit(cdnow)
    assert model.log_likelihood_ == pytest.approx(free.log_likelihood_, abs=1e-6)
    assert model.standard_errors_ is not None and free.standard_errors_ is not None
    np.testing.assert_allclose(
        np.asarray(model.standard_errors_), np.asarray(free.standard_errors_), rtol=1e-3
    )


def test_q_constraint_keeps_the_mean_spend_finite() -> None:
    """Spend whose population has q < 1: unconstrained q lands below 1 (infinite mean spend);
    constrained it stays above 1 with a lower likelihood."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 6, 3000)
    spend = simulate_spend(x, GammaGammaParams(3.0, 0.7, 10.0), seed=4)
    rfm = RFM(frequency=x, recency=np.full(3000, 5.0), T=np.full(3000, 10.0), monetary_value=spend)
    free = GammaGamma().fit(rfm)
    bound = GammaGamma().fit(rfm, q_constraint=True)
    assert free.params_.q < 1 < bound.params_.q
    assert bound.log_likelihood_ < free.log_likelihood_
    assert np.isfinite(bound.population_mean_value())


@pytest.mark.parametrize(
    ("x", "t_x", "age"), [(7, 35.0, 77.86), (0, 0.0, 39.0), (26, 30.86, 31.0), (2, 30.43, 38.86)]
)
def test_pareto_dert_is_the_discounted_conditional_expectation(
    x: int, t_x: float, age: float
) -> None:
    """BTYD's pnbd.DERT example (x=7, t.x=35, T.cal=77.86, d=0.0027) and others: DERT equals
    ∫ δ e^{−δt} E[Y(t) | x, t_x, T] dt (integration by parts of ∫ e^{−δt} dE[Y(t)]), with the
    conditional expectation checked against BTYD's walkthrough in test_predictions."""
    model = ParetoNBD.from_params(ParetoNBDParams(0.553, 10.578, 0.606, 11.669))
    d = 0.0027
    got = model.discounted_residual_transactions_at([x], [t_x], [age], discount_rate=d)[0]
    oracle = integrate.quad(
        lambda t: d * np.exp(-d * t) * model.expected_purchases_at([x], [t_x], [age], horizon=t)[0],
        0, np.inf, epsabs=0, epsrel=1e-10, limit=500,
    )[0]  # fmt: skip
    assert got == pytest.approx(oracle, rel=1e-8)


def test_sbg_derl_against_the_survival_sum() -> None:
    """Fader & Hardie (2010) eq. 7 on the high-end segment of Fader & Hardie (2007):
    Σ_k S(n+k)/S(n−1)/(1+d)^k summed directly, and DEL = 1 + DERL(n=1)/(1+d)."""
    alpha, beta, d = 0.668, 3.806, 0.1
    model = ShiftedBetaGeometric.from_params((alpha, beta))
    k = np.arange(5000)

    def survival(t: np.ndarray) -> np.ndarray:
        return np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))

    got = model.discounted_residual_lifetime(d, [1, 2, 5, 10])
    direct = [
        np.sum(survival(n + k) / survival(n - 1) * np.exp(-k * np.log1p(d))) for n in (1, 2, 5, 10)
    ]
    np.testing.assert_allclose(got, direct, rtol=1e-10)
    assert model.discounted_expected_lifetime(d) == pytest.approx(1 + got[0] / (1 + d), rel=1e-12)
    assert np.all(np.diff(got) > 0)  # the longer a customer has stayed, the longer she will
