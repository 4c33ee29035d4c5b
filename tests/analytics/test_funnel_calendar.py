"""The calendar-month window (docs/metrics.md "Funnel", calendar-month window): until the same day next month.

Named cases at month ends, the kernels' month arithmetic against Python's calendar, every mode
against the oracle on logs stretched over month ends, and how the peers read a month.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel
from journeykit.analytics.errors import AnalyticsError, WindowError
from journeykit.analytics.kernels.common import add_months
from journeykit.analytics.windows import CalendarMonths, describe_window, parse_window
from tests import oracle
from tests.analytics.cases import ABC, Scenario, counts, dt, events_table, has_data, us
from tests.analytics.strategies import BASE, scenarios
from tests.builders import events_for


def test_parse_and_describe() -> None:
    assert parse_window("1mo") == CalendarMonths(1) == parse_window("calendar_month")
    assert parse_window("3 months") == CalendarMonths(3)
    assert describe_window(CalendarMonths(2), "given") == "2 calendar months"
    with pytest.raises(WindowError, match="1 to 1200 months"):
        parse_window("0mo")


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        ("2024-01-15 10:00", "2024-02-15 10:00"),
        ("2024-01-31 10:00", "2024-02-29 10:00"),  # leap February: its last day
        ("2023-01-31 10:00", "2023-02-28 10:00"),
        ("2024-03-31 00:00", "2024-04-30 00:00"),
        ("2024-12-31 23:59", "2025-01-31 23:59"),
    ],
)
def test_deadline_is_the_same_day_next_month_or_its_last_day(start: str, deadline: str) -> None:
    assert CalendarMonths(1).deadline(dt(start)) == dt(deadline)
    assert add_months(us(dt(start)), 1) == us(dt(deadline))


@given(
    t=st.datetimes(datetime(1, 1, 1), datetime(9000, 12, 31)),
    months=st.integers(1, 1200),
)
def test_kernel_month_arithmetic_matches_the_calendar(t: datetime, months: int) -> None:
    assert add_months(us(t), months) == us(CalendarMonths(months).deadline(t))


def test_a_month_is_not_30_days(con: ibis.BaseBackend) -> None:
    # x converts on Feb 15, 31 days after Jan 15: in a calendar month, not in 30 days.
    # y starts Jan 31 and converts on Feb 29 12:00, past Feb 29 10:00 (Jan 31 clamped), though
    # only 29 days later; z converts at the deadline itself.
    log = events_for(
        {
            "x": [("a", "2024-01-15 10:00"), ("b", "2024-02-15 10:00")],
            "y": [("a", "2024-01-31 10:00"), ("b", "2024-02-29 12:00")],
            "z": [("a", "2024-01-31 10:00"), ("b", "2024-02-29 10:00")],
        }
    )
    table = events_table(con, log)
    month = funnel(table, ABC, window=CalendarMonths(1))
    assert month.counts == [3, 2, 0] and month.window_text == "1 calendar month"
    assert month.to_dict()["window_months"] == 1
    assert funnel(table, ABC, window=timedelta(days=30)).counts == [3, 2, 0]  # y and z
    assert funnel(table, ABC, window=timedelta(days=31)).counts == [3, 3, 0]
    assert counts(oracle.funnel(log, ABC, window=oracle.Months(1))) == [3, 2, 0]


# Grid point k of the generated logs -> a day near a month end, so that attempts cross short
# months, deadlines clamp (Jan 30/31 -> Feb 29, Mar 31 -> Apr 30) and 30 days != a month.
_DAYS = [
    "2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-15", "2024-02-28",
    "2024-02-29", "2024-03-01", "2024-03-02", "2024-03-29", "2024-03-30", "2024-03-31",
    "2024-04-01", "2024-04-29", "2024-04-30", "2024-05-01", "2024-05-30", "2024-05-31",
    "2024-06-01", "2024-06-30", "2024-07-01",
]  # fmt: skip


def _stretched(case: Scenario) -> Scenario:
    """The scenario's 12-hour grid moved onto ``_DAYS``, at hours that change with k."""
    journey, events, window, now = case

    def move(t: datetime) -> datetime:
        k = round((t - BASE) / timedelta(hours=12))
        return dt(_DAYS[k]) + timedelta(hours=6 * (k % 3))

    moved = [replace(e, timestamp=move(e.timestamp)) for e in events]
    return journey, moved, window, None if now is None else move(now)


@pytest.mark.parametrize("mode", ["ordered", "strict", "any"])
@settings(settings.get_profile("analytics"))
@given(case=scenarios(), months=st.sampled_from([1, 2]))
def test_calendar_window_agrees_with_oracle(
    con: ibis.BaseBackend, mode: str, case: Scenario, months: int
) -> None:
    journey, events, _, now = _stretched(case)
    if not has_data(events, now):
        return
    expected = oracle.funnel(events, journey, mode=mode, window=oracle.Months(months), now=now)  # type: ignore[arg-type]
    got = funnel(
        events_table(con, events), journey, mode=mode, window=CalendarMonths(months), now=now
    )  # type: ignore[arg-type]
    assert [(s.customers, s.dropped, s.in_progress) for s in got.steps] == [
        (s["customers"], s["dropped"], s["in_progress"]) for s in expected["steps"]
    ]
    furthest = {str(c): int(k) + 1 for c, k in zip(got.customer_ids, got.furthest, strict=True)}
    assert furthest == expected["furthest"]
    if mode != "any":
        assert got.step_times is not None
        for c, level, times in zip(got.customer_ids, got.furthest, got.step_times, strict=True):
            assert list(times[: level + 1]) == [us(t) for t in expected["times"][str(c)]]


def test_peers_read_a_month_as_they_do(con: ibis.BaseBackend) -> None:
    # PostHog's funnels take a month as 31 days (posthog/utils.py DATERANGE_MAP, used by
    # FunnelUDF.conversion_window_limit in posthog/hogql_queries/insights/funnels): x converts
    # 31 days after a Feb 1 start, after its calendar month (Mar 1) but within PostHog's month.
    log = events_for(
        {
            "x": [("a", "2024-02-01 10:00"), ("b", "2024-03-03 10:00")],
            "y": [("a", "2024-01-01 10:00"), ("b", "2024-02-01 10:00")],
        }
    )
    table = events_table(con, log)
    assert funnel(table, ABC, window=CalendarMonths(1)).counts == [2, 1, 0]
    assert funnel(table, ABC, window=CalendarMonths(1), semantics="posthog").counts == [2, 2, 0]
    with pytest.raises(AnalyticsError, match="seconds, not calendar months"):
        funnel(table, ABC, window=CalendarMonths(1), semantics="clickhouse")
