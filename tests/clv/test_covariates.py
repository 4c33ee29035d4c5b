"""Covariates on purchase and drop-out (CLVTools' static-covariate parameterisation): the
coefficients used to simulate two personas are recovered within their standard errors."""

from __future__ import annotations

import numpy as np
import pytest

from journeykit.clv import (
    RFM,
    BetaGeo,
    BetaGeoParams,
    ParetoNBD,
    ParetoNBDParams,
    likelihood_ratio_test,
    simulate_beta_geo,
    simulate_pareto_nbd,
)
from journeykit.clv.covariates import BetaGeoCovariates, ParetoNBDCovariates

SIZE = 8000


def _two_personas(simulate, params_for) -> tuple[RFM, np.ndarray]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    parts = []
    for k in (0, 1):
        ages = rng.uniform(30, 52, SIZE // 2)
        parts.append(simulate(SIZE // 2, params_for(k), ages, seed=40 + k))
    rfm = RFM(
        frequency=np.concatenate([p.frequency for p in parts]),
        recency=np.concatenate([p.recency for p in parts]),
        T=np.concatenate([p.T for p in parts]),
    )
    return rfm, np.repeat([0.0, 1.0], SIZE // 2)


def _within(fit, name: str, truth: float, sigmas: float = 3.5) -> None:  # type: ignore[no-untyped-def]
    got, se = fit.params[name], fit.standard_errors[name]
    assert abs(got - truth) <= sigmas * se, (name, got, truth, se)


def test_bg_nbd_recovers_purchase_and_dropout_effects() -> None:
    """Persona 1 buys e^0.5 ≈ 1.65x as often (α/e^0.5) and has a and b scaled by e^−0.4."""
    rfm, z = _two_personas(
        simulate_beta_geo,
        lambda k: BetaGeoParams(
            0.8, 5.0 * np.exp(-0.5 * k), 0.6 * np.exp(-0.4 * k), 2.5 * np.exp(-0.4 * k)
        ),
    )
    model = BetaGeoCovariates().fit(rfm, purchase=z, dropout=z, names=(["persona"], ["persona"]))
    fit = model.result_
    assert fit.diagnosis is not None and fit.diagnosis.converged
    _within(fit, "purchase:persona", 0.5)
    _within(fit, "dropout:persona", -0.4)
    for name, truth in zip(("r", "alpha", "a", "b"), (0.8, 5.0, 0.6, 2.5), strict=True):
        _within(fit, name, truth)
    # the covariates matter: a plain BG/NBD on everyone is rejected against them (df = 2)
    assert likelihood_ratio_test(BetaGeo().fit(rfm), fit).p_value < 1e-6
    # each persona's model predicts as the plain model with its parameters
    persona = model.model_for([1.0], [1.0])
    _r, alpha, a, b = persona.params_
    assert alpha == pytest.approx(fit.params["alpha"] * np.exp(-fit.params["purchase:persona"]))
    assert a / b == pytest.approx(fit.params["a"] / fit.params["b"])


def test_pareto_nbd_recovers_purchase_and_dropout_effects() -> None:
    """Persona 1: α/e^0.5 (buys more) and β/e^0.7 (mean drop-out rate s/β up e^0.7)."""
    rfm, z = _two_personas(
        simulate_pareto_nbd,
        lambda k: ParetoNBDParams(0.8, 5.0 * np.exp(-0.5 * k), 0.6, 10.0 * np.exp(-0.7 * k)),
    )
    fit = ParetoNBDCovariates().fit(rfm, purchase=z, dropout=z).result_
    assert fit.diagnosis is not None and fit.diagnosis.converged
    _within(fit, "purchase:purchase_0", 0.5)
    _within(fit, "dropout:dropout_0", 0.7)
    assert likelihood_ratio_test(ParetoNBD().fit(rfm), fit).df == 2


def test_no_effect_gives_coefficients_near_zero() -> None:
    rfm, _ = _two_personas(simulate_beta_geo, lambda k: BetaGeoParams(0.8, 5.0, 0.6, 2.5))
    noise = np.random.default_rng(1).integers(0, 2, len(rfm)).astype(float)
    fit = BetaGeoCovariates().fit(rfm, purchase=noise, dropout=noise).result_
    _within(fit, "purchase:purchase_0", 0.0)
    _within(fit, "dropout:dropout_0", 0.0)
