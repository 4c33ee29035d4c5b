"""Readings of a funnel (analytics.funnel_views) against the brute-force oracle: the people at
and dropped at a step, conversion per entry period, and the time between two chosen steps."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel
from journeykit.analytics.funnel_views import (
    conversion_time,
    funnel_people,
    funnel_trends,
    period_start,
)
from journeykit.analytics.milestones import AnalyticsError
from tests import oracle
from tests.analytics.cases import ABC, D30, Scenario, events_table, has_data
from tests.analytics.strategies import scenarios
from tests.builders import events_for


@settings(settings.get_profile("analytics"))
@given(case=scenarios(), data=st.data())
def test_readings_agree_with_oracle(
    con: ibis.BaseBackend, case: Scenario, data: st.DataObject
) -> None:
    journey, events, window, now = case
    if not has_data(events, now):
        return
    expected = oracle.funnel(events, journey, window=window, now=now)
    got = funnel(events_table(con, events), journey, window=window, now=now)
    k = len(got.steps)
    step = data.draw(st.integers(1, k), label="step")
    furthest = expected["furthest"]
    assert set(funnel_people(got, step).customer_ids) == {
        c for c, f in furthest.items() if f >= step
    }
    if step > 1:
        dropped = set(funnel_people(got, step, dropped=True).customer_ids)
        assert dropped <= {c for c, f in furthest.items() if f == step - 1}
        assert len(dropped) == expected["steps"][step - 2]["dropped"]
    interval = data.draw(st.sampled_from(["day", "week", "month"]), label="interval")
    trend: dict[date, list[int]] = {}
    for c, start in expected["start"].items():
        row = trend.setdefault(period_start(start.date(), interval), [0, 0])
        row[0] += 1
        row[1] += furthest[c] >= k
    rows = funnel_trends(got, interval).rows()
    assert [(r["period"], r["entered"], r["converted"]) for r in rows] == [
        (p.isoformat(), n, c) for p, (n, c) in sorted(trend.items())
    ]
    a = data.draw(st.integers(1, k - 1), label="from")
    b = data.draw(st.integers(a + 1, k), label="to")
    seconds = [
        (ts[b - 1] - ts[a - 1]).total_seconds() for ts in expected["times"].values() if len(ts) >= b
    ]
    stats = conversion_time(got, a, b, bins=3)
    if not seconds:
        assert stats is None
        return
    assert stats is not None and stats.count == len(seconds)
    assert stats.mean == pytest.approx(statistics.fmean(seconds))
    assert stats.median == pytest.approx(oracle.quantile(seconds, 0.5))
    assert sum(n for _, _, n in stats.histogram) == len(seconds) and len(stats.histogram) == 3


def test_people_trends_and_times_on_a_small_log(con: ibis.BaseBackend) -> None:
    log = events_for(
        {
            "x": [("a", "2024-01-01"), ("b", "2024-01-02"), ("c", "2024-01-05")],
            "y": [("a", "2024-01-01"), ("b", "2024-01-04")],
            "z": [("a", "2024-02-10")],
        }
    )
    got = funnel(events_table(con, log), ABC, window=D30)
    assert funnel_people(got, "b").customer_ids == ("x", "y")
    assert funnel_people(got, 3, dropped=True).customer_ids == ("y",)
    rows = funnel_trends(got, "month").rows()
    assert [(r["period"], r["entered"], r["converted"]) for r in rows] == [
        ("2024-01-01", 2, 1),
        ("2024-02-01", 1, 0),
    ]
    stats = conversion_time(got, "a", "b")
    assert stats is not None and stats.mean == 2 * 86400 and stats.median == 2 * 86400
    with pytest.raises(AnalyticsError, match="not on path"):
        funnel_people(got, 9)
    with pytest.raises(AnalyticsError, match="after the from step"):
        conversion_time(got, 2, 1)
    assert timedelta(days=2) == stats.median_timedelta


@settings(settings.get_profile("analytics"), max_examples=30)
@given(case=scenarios(), start=st.integers(0, 20))
def test_a_date_range_start_leaves_earlier_events_out(
    con: ibis.BaseBackend, case: Scenario, start: int
) -> None:
    """``date_from`` is the oracle's funnel over the events from then on, on a table and on a
    fetched milestone log alike."""
    from journeykit.analytics.milestones import fetch_milestones
    from tests.analytics.strategies import BASE, GRID

    journey, events, window, now = case
    date_from = BASE + start * GRID
    later = [e for e in events if e.timestamp >= date_from]
    if not has_data(later, now) or not has_data(events, now):
        return
    expected = oracle.funnel(
        later, journey, window=window, now=now or max(e.timestamp for e in events)
    )
    table = events_table(con, events)
    got = funnel(table, journey, window=window, now=now, date_from=date_from)
    assert [s.customers for s in got.steps] == [s["customers"] for s in expected["steps"]]
    frame = fetch_milestones(table, journey, now=now)
    again = funnel(frame, journey, window=window, now=now, date_from=date_from)
    assert [s.to_dict() for s in again.steps] == [s.to_dict() for s in got.steps]


@pytest.mark.parametrize("mode", ["ordered", "strict", "any"])
@settings(settings.get_profile("analytics"), max_examples=40)
@given(case=scenarios(), data=st.data())
def test_first_time_steps_agree_with_oracle(
    con: ibis.BaseBackend, mode: str, case: Scenario, data: st.DataObject
) -> None:
    """A step marked ``first_time`` is served only by the customer's first time of its milestone."""
    journey, events, window, now = case
    if not has_data(events, now):
        return
    path = journey.path()
    flags = data.draw(st.lists(st.booleans(), min_size=len(path.steps), max_size=len(path.steps)))
    steps = tuple(
        s.model_copy(update={"first_time": f}) for s, f in zip(path.steps, flags, strict=True)
    )
    paths = (path.model_copy(update={"steps": steps}), *journey.paths[1:])
    journey = journey.model_copy(update={"paths": paths})
    expected = oracle.funnel(events, journey, mode=mode, window=window, now=now)  # type: ignore[arg-type]
    got = funnel(events_table(con, events), journey, mode=mode, window=window, now=now)  # type: ignore[arg-type]
    assert [s.customers for s in got.steps] == [s["customers"] for s in expected["steps"]]
    furthest = {str(c): int(k) + 1 for c, k in zip(got.customer_ids, got.furthest, strict=True)}
    assert furthest == expected["furthest"]
