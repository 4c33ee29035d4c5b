"""The simple formula: average purchase value x purchases per period while a customer x lifespan.

Lifespan is 1 / churn, with churn and purchase rate the constant rates that best explain every
customer's purchases and silences. Checked three ways: the identities the factors must satisfy, a
brute-force maximum of the likelihood written out here, and simulated bases whose true lifetime
value m·λ/c is known.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pytest
from tests.builders import events_for, to_arrow

from journeykit.clv import RFM, RFMError, simple_clv, simple_clv_by_group, simulate_constant_churn
from journeykit.clv.journey import journey_customers, simple_clv_by
from journeykit.clv.simple import fit_constant_rates
from journeykit.journey import parse_journey

SMALL = RFM(
    frequency=np.array([2, 0, 1, 0, 5, 3]),
    recency=np.array([2.0, 0.0, 0.5, 0.0, 9.0, 3.0]),
    T=np.array([4.0, 3.0, 6.0, 2.0, 10.0, 12.0]),
    time_unit="W",
)


def _log_likelihood(lam: float, mu: float, rfm: RFM) -> float:
    """Fader, Hardie & Lee (2005) eq. 3, one λ and one μ for everyone, written out directly."""
    total = 0.0
    for x, t, big_t in zip(rfm.frequency, rfm.recency, rfm.T, strict=True):
        k = lam + mu
        gone = lam**x * mu / k * math.exp(-k * t)
        alive = lam ** (x + 1) / k * math.exp(-k * big_t)
        total += math.log(gone + alive)
    return total


def test_rates_are_the_maximum_of_the_likelihood() -> None:
    got = fit_constant_rates(SMALL)
    grid = np.exp(np.linspace(np.log(0.01), np.log(5), 121))
    best = max((_log_likelihood(a, b, SMALL), a, b) for a in grid for b in grid)
    assert _log_likelihood(got.purchase_rate, got.churn_rate, SMALL) >= best[0] - 1e-9
    assert got.purchase_rate == pytest.approx(best[1], rel=0.06)
    assert got.churn_rate == pytest.approx(best[2], rel=0.06)


def test_factors_are_the_plain_ratios_the_fit_makes_them() -> None:
    rates = fit_constant_rates(SMALL)
    # At the maximum, λ = repeat purchases / time as customers and c = customers gone / that time
    assert rates.repeat_purchases == 11
    assert rates.purchase_rate == pytest.approx(11 / rates.exposure, rel=1e-5)
    assert rates.churn_rate == pytest.approx(rates.gone / rates.exposure, rel=1e-5)
    got = simple_clv(SMALL, revenue=[30.0, 10.0, 20.0, 10.0, 60.0, 40.0])
    assert got.average_purchase_value.value == pytest.approx(170 / 17)  # 17 purchases
    assert got.average_purchase_value.explanation == "170.00 revenue / 17 purchases"
    assert got.period == "week"
    assert got.lifespan is not None and got.clv is not None
    assert got.lifespan.value == pytest.approx(1 / got.churn_rate.value)
    assert got.clv == pytest.approx(170 / 17 * 11 / rates.gone, rel=1e-5)
    assert [f.name for f in got.factors] == [
        "average purchase value", "purchase frequency", "churn rate", "lifespan",
    ]  # fmt: skip
    assert got.still_customers == pytest.approx(1 - rates.gone / 6)


def _simulate(
    n: int, churn: float, rate: float, mean: float, seed: int, at_birth: bool
) -> tuple[RFM, np.ndarray]:
    return simulate_constant_churn(
        n, churn=churn, rate=rate, mean_value=mean, life_starts_at_first_purchase=at_birth,
        seed=seed,
    )  # fmt: skip


@pytest.mark.parametrize("at_birth", [True, False], ids=["first-purchase-at-birth", "born-earlier"])
@pytest.mark.parametrize(
    ("churn", "rate", "mean"),
    [(0.1, 1.0, 50.0), (0.05, 0.5, 30.0), (0.2, 2.0, 20.0), (0.3, 0.5, 40.0), (0.03, 0.4, 80.0)],
)
def test_one_year_of_a_constant_churn_base_gives_its_lifetime_value(
    churn: float, rate: float, mean: float, at_birth: bool
) -> None:
    rfm, revenue = _simulate(8000, churn, rate, mean, seed=11, at_birth=at_birth)
    got = simple_clv(rfm, revenue=revenue)
    truth = mean * rate / churn
    assert got.clv == pytest.approx(truth, rel=0.15)
    # the old "last minus first purchase" lifespan was far off on every one of these bases
    old = revenue.sum() / len(rfm) / 12 * rfm.recency.mean()  # revenue a month x mean(last - first)
    assert abs(old - truth) > 0.15 * truth


def test_horizon_value_approaches_the_lifetime_value() -> None:
    rfm, revenue = _simulate(3000, 0.1, 1.0, 50.0, seed=3, at_birth=True)
    life = simple_clv(rfm, revenue=revenue).clv
    assert life is not None
    far = simple_clv(rfm, revenue=revenue, horizon_months=1200, discount_rate=0.0)
    near = simple_clv(rfm, revenue=revenue, horizon_months=1, discount_rate=0.0)
    assert far.horizon_clv == pytest.approx(life, rel=1e-6)
    apv, freq = near.average_purchase_value, near.purchase_frequency
    assert apv is not None and freq is not None
    assert near.horizon_clv == pytest.approx(apv.value * freq.value * 1, rel=0.06)  # 1 month
    discounted = simple_clv(rfm, revenue=revenue, horizon_months=12, discount_rate=0.01)
    undiscounted = simple_clv(rfm, revenue=revenue, horizon_months=12, discount_rate=0.0)
    assert discounted.horizon_clv is not None and undiscounted.horizon_clv is not None
    assert discounted.horizon_clv < undiscounted.horizon_clv < life


def test_no_repeat_buyer_cannot_tell_staying_from_leaving() -> None:
    once = RFM(frequency=np.zeros(3, dtype=int), recency=np.zeros(3), T=np.ones(3))
    with pytest.raises(RFMError, match="no customer bought twice"):
        simple_clv(once, revenue=[1.0, 2.0, 3.0])


def test_a_base_where_nobody_looks_gone_has_no_lifespan_but_a_horizon_value() -> None:
    # everyone bought every week up to the end: no sign of anyone leaving
    steady = RFM(frequency=np.array([9, 9]), recency=np.array([9.0, 9.0]), T=np.array([9.0, 9.0]))
    got = simple_clv(steady, revenue=[100.0, 100.0], horizon_months=1, discount_rate=0.0)
    assert got.clv is None and got.lifespan is None and got.note is not None
    assert got.horizon_clv == pytest.approx(10.0 * 1.0 * 4.345, rel=1e-3)  # 10 a purchase x 1/week


def test_negative_revenue_names_its_row() -> None:
    with pytest.raises(RFMError, match="row 1, column 'revenue'"):
        simple_clv(SMALL, revenue=[5.0, -1.0, 1.0, 1.0, 1.0, 1.0])


def test_groups_keep_a_row_even_when_they_cannot_be_measured() -> None:
    got = simple_clv_by_group(
        SMALL, ["a", "b", "a", "b", "a", "a"], revenue=[30.0, 10.0, 20.0, 10.0, 60.0, 40.0], by="x"
    )
    a, b = got.groups
    assert (a.group, a.customers, b.group, b.customers) == ("a", 4, "b", 2)
    assert a.clv is not None and a.average_purchase_value is not None
    assert a.average_purchase_value.value == pytest.approx(150 / 15)
    assert b.clv is None and b.note is not None and "bought twice" in b.note
    assert got.rows()[2]["clv"] is None and got.to_pandas().shape == (3, 9)


JOURNEY = """\
id: shop
title: Shop
transformation: {from: a, to: b}
milestones:
  - {id: bought, title: Bought, phase: core, kind: purchase, when: order}
"""


def test_through_the_journey_a_simulated_shop_gives_its_lifetime_value() -> None:
    """Events in, the journey's purchase milestones, weeks: the one pipeline end to end."""
    rng = np.random.default_rng(5)
    churn, rate, mean = 0.1, 1.0, 40.0  # a month; true CLV 400
    start = np.datetime64("2024-01-01T00:00")
    log: dict[str, list[tuple[str, str, dict[str, str], float]]] = {}
    for i, (birth, life) in enumerate(
        zip(rng.uniform(0, 12, 4000), rng.exponential(1 / churn, 4000), strict=True)
    ):
        end = min(birth + life, 12.0)
        months = [birth, *np.sort(rng.uniform(birth, end, rng.poisson(rate * (end - birth))))]
        log[f"c{i}"] = [
            ("order", str(start + np.timedelta64(int(m * 30.4375 * 1440), "m")), {},
             float(rng.gamma(2.0, mean / 2.0)))
            for m in months
        ]  # fmt: skip
    data = journey_customers(ibis.memtable(to_arrow(events_for(log))), parse_journey(JOURNEY))
    got = simple_clv_by(data, horizon_months=12)
    assert got.overall.period == "week"
    assert got.overall.clv == pytest.approx(mean * rate / churn, rel=0.15)
    assert got.overall.horizon_clv_today is not None
