"""Tracking, frequency × recency matrices, P(alive) history and the likelihood-ratio test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from journeykit.clv import RFM, BetaGeo, BetaGeoParams, ParetoNBD, simulate_beta_geo
from journeykit.clv.compare import likelihood_ratio_test
from journeykit.clv.diagnostics import (
    expected_cumulative_transactions,
    expected_purchases_matrix,
    probability_alive_history,
    probability_alive_matrix,
)

BG = BetaGeoParams(0.243, 4.414, 0.793, 2.426)


def _weeks(cdnow_transactions: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """Each customer's first purchase and every repeat purchase day (same day merged), in
    weeks since 1 Jan 1997; a purchase on day d counts at the end of that day."""
    day = pd.to_datetime(cdnow_transactions.date.astype(str)) - pd.Timestamp("1997-01-01")
    days = pd.DataFrame(
        {"c": cdnow_transactions.customer_index, "d": day.dt.days}
    ).drop_duplicates()
    first = days.groupby("c").d.min()
    repeat = days[days.d > days.c.map(first)].d.to_numpy()
    return first / 7, (repeat + 1) / 7


def test_tracking_on_cdnow(cdnow: RFM, cdnow_transactions: pd.DataFrame) -> None:
    """FHL (2005) Fig. 1-2: 2,457 repeat purchases in the 39 calibration weeks (Σx of the
    summary) and 1,882 more by week 78; the fitted BG/NBD tracks the total within 5%."""
    first, repeat = _weeks(cdnow_transactions)
    model = BetaGeo().fit(cdnow)
    weeks = np.arange(1.0, 79.0)
    tracking = expected_cumulative_transactions(model, first, weeks, repeat_purchases=repeat)
    actual = tracking.actual_cumulative
    assert actual is not None
    assert actual[38] == cdnow.frequency.sum() == 2457
    assert actual[77] - actual[38] == 1882
    assert tracking.expected_cumulative[77] == pytest.approx(actual[77], rel=0.05)
    # brute force: every customer's own E[X(τ − b)] summed
    b = first.to_numpy()
    for tau in (10.0, 39.0, 78.0):
        alive = b < tau
        direct = model.expected_purchases_new(tau - b[alive]).sum()
        i = int(tau) - 1
        assert tracking.expected_cumulative[i] == pytest.approx(direct, rel=1e-12)
    table = tracking.to_pandas()
    assert table.expected_incremental.sum() == pytest.approx(tracking.expected_cumulative[-1])
    assert list(table.columns)[-1] == "actual_incremental"


@pytest.mark.parametrize(
    "model", [BetaGeo.from_params(BG), ParetoNBD.from_params((0.553, 10.578, 0.606, 11.669))]
)
def test_matrices_match_single_calls(model: BetaGeo | ParetoNBD) -> None:
    """lifetimes' test_conditional_probability_alive_matrix: Z[t_x][x] = P(alive | x, t_x, max T)."""
    z = probability_alive_matrix(model, 20, 39, age=39.0)
    assert z.values.shape == (40, 21)
    for t_x in (0, 5, 39):
        for x in (0, 3, 20):
            assert z.values[t_x, x] == model.probability_alive_at([x], [t_x], [39.0])[0]
    e = expected_purchases_matrix(model, 10, 30, horizon=52.0)
    assert e.age == 30.0
    assert e.values[30, 10] == pytest.approx(
        model.expected_purchases_at([10], [30], [30.0], horizon=52.0)[0]
    )
    assert e.to_pandas().loc[30.0, 10] == e.values[30, 10]
    assert z.to_dict()["quantity"] == "probability_alive"


def test_alive_history_follows_the_purchases() -> None:
    model = BetaGeo.from_params(BG)
    purchases = [2.0, 5.0, 9.0]
    times = np.array([1.0, 2.0, 4.0, 5.0, 8.0, 9.0, 30.0])
    path = probability_alive_history(model, purchases, times)
    assert np.isnan(path[0])
    assert path[1] == 1.0 and path[2] == 1.0  # BG/NBD: no drop-out before the first repeat
    assert path[4] < path[5]  # a purchase restores it
    assert path[6] < path[5]  # silence erodes it
    assert path[6] == model.probability_alive_at([2], [7.0], [28.0])[0]


def test_likelihood_ratio_by_hand() -> None:
    pooled = BetaGeo.from_params(BG)
    pooled.log_likelihood_, pooled.customers_ = -1000.0, 100
    parts = [BetaGeo.from_params(BG), BetaGeo.from_params(BG)]
    parts[0].log_likelihood_, parts[0].customers_ = -600.0, 60
    parts[1].log_likelihood_, parts[1].customers_ = -395.0, 40
    lr = likelihood_ratio_test(pooled, parts)
    assert (lr.statistic, lr.df) == (10.0, 4)
    assert lr.p_value == pytest.approx(stats.chi2.sf(10.0, 4), rel=1e-12)
    with pytest.raises(ValueError, match="different customers"):
        likelihood_ratio_test(pooled, parts[:1], df=4)


def test_likelihood_ratio_tells_a_real_difference_from_noise() -> None:
    """Two groups from the same BG/NBD: p-values spread out (reject about 5% of the time);
    groups with different drop-out: rejected every time."""
    p_same, p_diff = [], []
    ages = np.full(1200, 39.0)
    for seed in range(20):
        a = simulate_beta_geo(1200, BG, ages, seed=100 + seed)
        b = simulate_beta_geo(1200, BG, ages, seed=200 + seed)
        c = simulate_beta_geo(1200, BG._replace(a=0.3, b=3.0), ages, seed=300 + seed)
        for other, out in ((b, p_same), (c, p_diff)):
            both = RFM(
                frequency=np.r_[a.frequency, other.frequency],
                recency=np.r_[a.recency, other.recency],
                T=np.r_[a.T, other.T],
            )
            out.append(
                likelihood_ratio_test(
                    BetaGeo().fit(both), [BetaGeo().fit(a), BetaGeo().fit(other)]
                ).p_value
            )
    assert np.mean(np.array(p_same) < 0.05) <= 0.2
    assert stats.kstest(p_same, "uniform").pvalue > 0.01
    assert all(p < 0.01 for p in p_diff)
