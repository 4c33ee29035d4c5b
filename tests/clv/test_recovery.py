"""Fits recover the parameters that simulated the data (fixed seeds)."""

from __future__ import annotations

import numpy as np
import pytest

from journeykit.clv import (
    RFM,
    BetaGeo,
    BetaGeoParams,
    GammaGamma,
    GammaGammaParams,
    ModifiedBetaGeo,
    ParetoNBD,
    ParetoNBDParams,
    ShiftedBetaGeometric,
    ShiftedBetaGeoParams,
    simulate_beta_geo,
    simulate_pareto_nbd,
    simulate_renewals,
    simulate_spend,
)


def _ages(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(26.0, 52.0, n)


def _within_standard_errors(model, truth, n_se: float = 4.0) -> None:  # type: ignore[no-untyped-def]
    assert model.converged_, model.diagnosis_
    for name, got, se, want in zip(
        truth._fields, model.params_, model.standard_errors_, truth, strict=True
    ):
        assert abs(got - want) < n_se * se, (name, got, want, se)
        assert abs(got - want) < 0.25 * want, (name, got, want)  # and the SEs are not huge


@pytest.mark.parametrize(
    ("truth", "seed"),
    [
        (BetaGeoParams(0.243, 4.414, 0.793, 2.426), 1),
        (BetaGeoParams(1.5, 8.0, 0.5, 4.0), 2),
        (BetaGeoParams(0.6, 2.0, 2.0, 6.0), 3),
    ],
)
def test_bg_nbd_recovers_parameters(truth: BetaGeoParams, seed: int) -> None:
    n = 60_000
    rfm = simulate_beta_geo(n, truth, _ages(n, seed), seed=seed)
    _within_standard_errors(BetaGeo().fit(rfm), truth)


def test_mbg_nbd_recovers_parameters() -> None:
    truth, n = BetaGeoParams(0.5, 6.0, 0.9, 1.6), 60_000
    rfm = simulate_beta_geo(n, truth, _ages(n, 4), seed=4, modified=True)
    _within_standard_errors(ModifiedBetaGeo().fit(rfm), truth)


@pytest.mark.parametrize(
    ("truth", "seed"),
    [(ParetoNBDParams(0.553, 10.578, 0.606, 11.669), 5), (ParetoNBDParams(1.2, 6.0, 1.5, 20.0), 6)],
)
def test_pareto_nbd_recovers_parameters(truth: ParetoNBDParams, seed: int) -> None:
    n = 8_000
    rfm = simulate_pareto_nbd(n, truth, _ages(n, seed), seed=seed)
    _within_standard_errors(ParetoNBD().fit(rfm), truth)


@pytest.mark.parametrize(
    "truth", [GammaGammaParams(6.25, 3.74, 15.44), GammaGammaParams(2.0, 5.0, 40.0)]
)
def test_gamma_gamma_recovers_parameters(truth: GammaGammaParams) -> None:
    n = 20_000
    x = np.random.default_rng(8).integers(1, 15, n)
    m = simulate_spend(x, truth, seed=9)
    rfm = RFM(frequency=x, recency=np.ones(n), T=np.full(n, 2.0), monetary_value=m)
    _within_standard_errors(GammaGamma().fit(rfm), truth)


@pytest.mark.parametrize(
    "truth", [ShiftedBetaGeoParams(0.668, 3.806), ShiftedBetaGeoParams(2.0, 1.0)]
)
def test_sbg_recovers_parameters(truth: ShiftedBetaGeoParams) -> None:
    data = simulate_renewals(20_000, truth, periods=8, seed=10)
    _within_standard_errors(ShiftedBetaGeometric().fit(data), truth)


def test_screened_fit_on_a_large_sample_matches_full_optimisation() -> None:
    """Above 100k customers the starts run on a subsample and Newton steps polish on all:
    the answer must be the full-data optimum, not the subsample's."""
    truth, n = BetaGeoParams(0.243, 4.414, 0.793, 2.426), 150_000
    rfm = simulate_beta_geo(n, truth, _ages(n, 11), seed=11)
    model = BetaGeo().fit(rfm)
    assert model.converged_ and model.diagnosis_ is not None
    assert model.diagnosis_.message.startswith("Newton polish")
    assert model.diagnosis_.gradient_norm < 1e-6
