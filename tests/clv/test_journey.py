"""CLV through the journey: a hand-built log, every number computed by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import ibis
import numpy as np
import pytest
from tests.builders import events_for, to_arrow

from journeykit.analytics.milestones import AnalyticsError, fetch_milestones
from journeykit.clv.journey import (
    clv_by_journey,
    journey_customers,
    journey_tracking,
    simple_clv_by,
)
from journeykit.clv.models import BetaGeo, BetaGeoParams
from journeykit.clv.simple import fit_constant_rates
from journeykit.journey import parse_journey

JOURNEY = """\
id: shop
title: Shop
transformation: {from: a, to: b}
personas:
  - {id: pro, name: Pro, segment: {event: signed_up, properties: {plan: pro}}}
  - {id: hobby, name: Hobby, segment: {event: signed_up, properties: {plan: hobby}}}
milestones:
  - {id: signed_up, title: Signed up, phase: pre, when: signed_up}
  - {id: trial, title: Trial, phase: pre, kind: free_trial, when: trial_started}
  - {id: bought, title: Bought, phase: core, kind: purchase, when: order}
  - {id: reordered, title: Reordered, phase: post, kind: repeat_purchase, when: reorder}
  - {id: review, title: Review, phase: post, when: review}
  - {id: gift, title: Gift card, phase: post, purchase: true, when: gift_card}
  - {id: upsell_seen, title: Saw upsell, phase: post, kind: upsell, purchase: false, when: upsell_viewed}
"""

LOG = {
    "ana": [
        ("signed_up", "2024-01-01", {"plan": "pro"}),
        ("trial_started", "2024-01-02"),
        ("order", "2024-01-03 10:00", {}, 10.0),
        ("order", "2024-01-03 18:00", {}, 5.0),  # same day: one purchase worth 15
        ("reorder", "2024-01-10", {}, 20.0),
        ("gift_card", "2024-01-17", {}, 30.0),  # purchase: true on a custom milestone
        ("upsell_viewed", "2024-01-20", {}, 999.0),  # an upsell kind, but purchase: false
        ("reorder", "2024-02-05", {}, 40.0),  # holdout
        ("review", "2024-02-12"),  # the latest event: now
    ],
    "ben": [("signed_up", "2024-01-05", {"plan": "hobby"}), ("order", "2024-01-08", {}, 50.0)],
    "cy": [
        ("signed_up", "2023-12-30", {"plan": "pro"}),
        ("signed_up", "2024-01-01", {"plan": "hobby"}),
        ("order", "2024-01-28 23:00", {}, 12.0),
        ("reorder", "2024-01-29 08:00", {}, 8.0),
    ],
    "dee": [("signed_up", "2024-01-02"), ("order", "2024-02-10", {}, 9.0)],  # holdout only
    "eve": [("order", "2024-01-15 09:00", {}, 7.0), ("reorder", "2024-01-15 12:00", {}, 3.0)],
}


@pytest.fixture(scope="module")
def events() -> ibis.Table:
    return ibis.memtable(to_arrow(events_for(LOG)))


def test_summary_from_events_by_hand(events: ibis.Table) -> None:
    journey = parse_journey(JOURNEY)
    got = journey_customers(events, journey, calibration_end="2024-01-29", unit="weeks")
    df = got.to_pandas().set_index("customer_id")
    assert list(df.index) == ["ana", "ben", "cy", "eve"]  # dee first bought after calibration
    assert got.purchase_milestones == ("bought", "reordered", "gift")
    assert df["frequency"].tolist() == [2, 0, 1, 0]
    # ana: purchase days Jan 3, 10, 17; T to Jan 29 (inclusive end: the day counts) = 26 days
    np.testing.assert_allclose(df["recency"], [14 / 7, 0, 1 / 7, 0])
    np.testing.assert_allclose(df["T"], [26 / 7, 21 / 7, 1 / 7, 14 / 7])
    np.testing.assert_allclose(df["monetary_value"], [25.0, 0.0, 8.0, 0.0])
    assert df["frequency_holdout"].tolist() == [1, 0, 0, 0]
    assert df["monetary_value_holdout"].tolist() == [40.0, 0.0, 0.0, 0.0]
    assert got.holdout is not None and got.holdout.duration_holdout == 2.0  # Jan 29 -> Feb 12
    # cy matched both personas: the first in file order is theirs.
    assert df["persona"].tolist() == ["pro", "hobby", "pro", "(none)"]
    assert df["path"].tolist() == [
        "signed_up > trial > bought",
        "signed_up > bought",
        "signed_up > bought",
        "bought",
    ]
    assert df["cohort"].tolist() == ["2024-01", "2024-01", "2023-12", "2024-01"]
    assert got.purchases.tolist() == [3, 1, 2, 1]
    assert got.revenue is not None and got.revenue.tolist() == [65.0, 50.0, 20.0, 10.0]
    assert got.periods_observed == pytest.approx(26 / 7)


def test_days_and_no_holdout(events: ibis.Table) -> None:
    got = journey_customers(events, parse_journey(JOURNEY), unit="days")
    df = got.to_pandas().set_index("customer_id")
    assert got.holdout is None and "frequency_holdout" not in df
    assert df.loc["ana", "frequency"] == 3 and df.loc["ana", "recency"] == 33.0
    assert df.loc["ana", "T"] == 40.0 and df.loc["dee", "T"] == 2.0
    assert df.loc["ana", "monetary_value"] == pytest.approx(30.0)


def test_simple_formula_by_persona_by_hand(events: ibis.Table) -> None:
    data = journey_customers(events, parse_journey(JOURNEY), calibration_end="2024-01-29")
    got = simple_clv_by(data, "persona")
    o = got.overall
    # 7 purchase days worth 145; 3 of them repeats (ana 2, cy 1) over the customers' weeks
    assert o.average_purchase_value is not None and o.purchase_frequency is not None
    assert o.average_purchase_value.value == pytest.approx(145 / 7)
    assert o.purchase_frequency.numerator == 3
    rates = fit_constant_rates(data.summary)
    assert o.purchase_frequency.value == pytest.approx(rates.purchase_rate, rel=1e-5)
    assert o.clv == pytest.approx(145 / 7 * 3 / rates.gone, rel=1e-5)
    pro = next(g for g in got.groups if g.group == "pro")
    # ana (3 purchase days worth 65) and cy (2 worth 20)
    assert pro.average_purchase_value is not None
    assert (pro.customers, pro.average_purchase_value.value) == (2, pytest.approx(85 / 5))
    assert got.to_dict()["by"] == "persona"
    assert [r["group"] for r in got.rows()] == ["all", "(none)", "hobby", "pro"]
    assert "<table" in got._repr_html_()


def test_value_by_journey_groups_partition_the_customers(events: ibis.Table) -> None:
    data = journey_customers(events, parse_journey(JOURNEY), unit="days")
    got = clv_by_journey(data, penalizer=0.1)
    assert got.overall.customers == 5
    for by in ("persona", "path", "cohort"):
        groups = [g for g in got.groups if g.by == by]
        assert sum(g.customers for g in groups) == 5
        assert sum(g.total_clv for g in groups) == pytest.approx(got.overall.total_clv)
        assert [g.clv for g in groups] == sorted((g.clv for g in groups), reverse=True)
        assert got.best(by) == groups[0]
    assert got.to_pandas().shape == (1 + 3 + 3 + 2, 8)
    assert set(got.to_dict()["best"]) == {"persona", "path", "cohort"}


def test_a_journey_without_purchase_values_has_no_monetary(events: ibis.Table) -> None:
    log = events_for({"a": [("order", "2024-01-01"), ("order", "2024-01-05")]})
    got = journey_customers(ibis.memtable(to_arrow(log)), parse_journey(JOURNEY), unit="days")
    assert got.summary.monetary_value is None and got.revenue is None
    with pytest.raises(Exception, match="needs purchase values"):
        simple_clv_by(got)


def test_some_purchases_without_a_value_are_refused() -> None:
    log = events_for({"a": [("order", "2024-01-01", {}, 5.0), ("order", "2024-01-05")]})
    with pytest.raises(AnalyticsError, match="1 of 2 purchase events have no value"):
        journey_customers(ibis.memtable(to_arrow(log)), parse_journey(JOURNEY))


def test_a_journey_without_purchases_is_refused() -> None:
    journey = parse_journey(
        "id: free\ntitle: Free\ntransformation: {from: a, to: b}\nmilestones:\n"
        "  - {id: joined, title: Joined, phase: core, purchase: false, when: order}\n"
    )
    log = events_for({"a": [("order", "2024-01-01", {}, 5.0)]})
    with pytest.raises(AnalyticsError, match="no purchase milestone"):
        journey_customers(ibis.memtable(to_arrow(log)), journey)


def test_value_by_journey_with_intervals(events: ibis.Table) -> None:
    data = journey_customers(events, parse_journey(JOURNEY), unit="days")
    plain = clv_by_journey(data, penalizer=0.1)
    got = clv_by_journey(data, penalizer=0.1, intervals=True)
    assert "clv_lower" not in plain.overall.to_dict()
    for g in (got.overall, *got.groups):
        assert g.clv_lower is not None and g.clv_upper is not None
        assert g.clv_lower <= g.clv <= g.clv_upper
    assert got.overall.clv == pytest.approx(plain.overall.clv)
    assert got.to_pandas().shape == (1 + 3 + 3 + 2, 10)


def test_tracking_by_hand(events: ibis.Table) -> None:
    """Purchase days from the first (Jan 3): ana 0 then repeats 7, 14, 33 (holdout); ben 5;
    cy 25 then 26; eve 12 (two purchases that day: one). Calibration ends at 26, the
    observation at 40 (Feb 12)."""
    journey = parse_journey(JOURNEY)
    frame = fetch_milestones(events, journey, personas=True)
    data = journey_customers(frame, journey, calibration_end="2024-01-29", unit="days")
    model = BetaGeo.from_params(BetaGeoParams(0.243, 4.414, 0.793, 2.426))
    got = journey_tracking(frame, journey, model, data)
    assert got.origin == datetime(2024, 1, 3) and got.calibration_end == 26.0
    t = got.tracking
    np.testing.assert_array_equal(t.times, np.arange(41.0))
    repeats = np.array([7.0, 14.0, 26.0, 33.0])
    assert t.actual_cumulative is not None
    np.testing.assert_array_equal(t.actual_cumulative, [(repeats <= x).sum() for x in t.times])
    # at the end: the summary's calibration plus holdout repeat purchases
    assert data.holdout is not None
    assert (
        t.actual_cumulative[-1]
        == data.summary.frequency.sum() + data.holdout.frequency_holdout.sum()
    )
    births = np.array([0.0, 5.0, 25.0, 12.0])  # dee first bought after calibration: not hers
    want = [
        sum(float(model.expected_purchases_new(np.array([x - b]))[0]) for b in births if x > b)
        for x in t.times
    ]
    np.testing.assert_allclose(t.expected_cumulative, want, rtol=1e-12)
    # at the end of calibration each customer has been observed for T: the model's E[X(T)]
    at_cal = float(model.expected_purchases_new(data.summary.T).sum())
    assert t.expected_cumulative[26] == pytest.approx(at_cal, rel=1e-12)
    weeks = journey_tracking(frame, journey, model, replace(data, unit="weeks"))
    assert weeks.calibration_end == pytest.approx(26 / 7) and weeks.tracking.times[
        -1
    ] == pytest.approx(40 / 7)


def test_value_gap_groups_by_hand_and_the_reused_look_up(events: ibis.Table) -> None:
    """Among customers who signed up (ana, ben, cy, dee): past the trial only ana; buyers by the
    end of calibration (Jan 31) ana, ben, cy (dee bought in February, eve never signed up)."""
    from dataclasses import replace

    from journeykit.clv.gap import buyer_rows, value_gap

    journey = parse_journey(JOURNEY)
    frame = fetch_milestones(events, journey, personas=True)
    data = journey_customers(frame, journey, calibration_end="2024-01-31", unit="days")
    rows = buyer_rows(data, frame)
    hashed = buyer_rows(replace(data, log_rows=None), frame)
    np.testing.assert_array_equal(rows, hashed)
    ids = frame.customer_ids.tolist()
    assert {ids[i]: int(r) >= 0 for i, r in enumerate(rows)} == {
        "ana": True, "ben": True, "cy": True, "dee": False, "eve": True
    }  # fmt: skip
    assert [str(data.summary.customer_id[r]) for r in rows[rows >= 0]] == [
        "ana",
        "ben",
        "cy",
        "eve",
    ]
    gap = value_gap(data, frame, "trial", among="signed_up", horizon_months=12)
    assert (gap.passed.customers, gap.passed.buyers) == (1, 1)
    assert (gap.not_passed.customers, gap.not_passed.buyers) == (3, 2)
    # a log made again (another ids object) is looked up by hashing, with the same answer
    again = fetch_milestones(events, journey, personas=True)
    np.testing.assert_array_equal(buyer_rows(data, again), rows)
