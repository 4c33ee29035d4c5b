"""CLV intervals from the parameters' covariance: coverage on bases simulated from known
parameters (the CDNOW BG/NBD and note 025's Gamma-Gamma estimates)."""

from __future__ import annotations

import numpy as np
import pytest

from journeykit.clv import (
    RFM,
    BetaGeo,
    BetaGeoParams,
    GammaGamma,
    GammaGammaParams,
    NotFittedError,
    discounted_clv,
    simulate_beta_geo,
    simulate_spend,
)
from journeykit.clv.uncertainty import clv_intervals

BG = BetaGeoParams(0.243, 4.414, 0.793, 2.426)
GG = GammaGammaParams(6.25, 3.74, 15.44)


def _base(seed: int, n: int = 2000) -> RFM:
    rng = np.random.default_rng(seed)
    base = simulate_beta_geo(n, BG, rng.uniform(26, 52, n), seed=seed + 1000)
    spend = simulate_spend(base.frequency, GG, seed=seed + 5000)
    return RFM(frequency=base.frequency, recency=base.recency, T=base.T, monetary_value=spend)


def test_intervals_cover_the_true_clv() -> None:
    """Over 40 bases of 2,000 customers, the 95% interval of the base's mean CLV holds the
    value at the true parameters about 95% of the time, and so do the per-customer ones."""
    group_hits, customer_hits = [], []
    for seed in range(40):
        rfm = _base(seed)
        labels = np.where(np.arange(len(rfm)) % 2 == 0, "a", "b")
        got = clv_intervals(
            BetaGeo().fit(rfm), GammaGamma().fit(rfm), rfm, groups=labels, time_unit="W"
        )
        truth = discounted_clv(
            BetaGeo.from_params(BG), GammaGamma.from_params(GG), rfm, time_unit="W"
        ).clv
        whole = got.groups[0]
        group_hits.append(whole.lower <= truth.mean() <= whole.upper)
        customer_hits.append(np.mean((got.lower <= truth) & (truth <= got.upper)))
        assert [g.group for g in got.groups] == ["all", "a", "b"]
        assert got.groups[1].customers + got.groups[2].customers == len(rfm)
    assert 0.85 <= np.mean(group_hits) <= 1.0
    assert 0.90 <= np.mean(customer_hits) <= 0.99


def test_interval_matches_a_direct_delta_method() -> None:
    """The group standard error is √(ḡᵀ Σ ḡ) with ḡ by wider differences in natural params."""
    rfm = _base(7, 1500)
    bg, gg = BetaGeo().fit(rfm), GammaGamma().fit(rfm)
    got = clv_intervals(bg, gg, rfm, time_unit="W").groups[0]
    params = np.r_[np.asarray(bg.params_), np.asarray(gg.params_)]

    def mean_clv(p: np.ndarray) -> float:
        return float(
            discounted_clv(
                BetaGeo.from_params(tuple(p[:4])), GammaGamma.from_params(tuple(p[4:])), rfm,
                time_unit="W",
            ).clv.mean()
        )  # fmt: skip

    grad = np.empty(7)
    for i in range(7):
        h = 1e-3 * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (mean_clv(up) - mean_clv(down)) / (2 * h)
    cov = np.zeros((7, 7))
    cov[:4, :4], cov[4:, 4:] = bg.covariance_, gg.covariance_
    assert got.standard_error == pytest.approx(float(np.sqrt(grad @ cov @ grad)), rel=1e-3)
    assert got.lower < got.mean_clv < got.upper


def test_intervals_need_fitted_models() -> None:
    rfm = _base(1, 300)
    with pytest.raises(NotFittedError, match="covariance"):
        clv_intervals(BetaGeo.from_params(BG), GammaGamma.from_params(GG), rfm, time_unit="W")
