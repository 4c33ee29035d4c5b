"""One event, several milestones: hand-computed cases for the exact search in the funnel kernel.

When two milestones' rules match the same event, "one event serves one step" (DESIGN) means an
attempt may not use that event twice. These cases are where a latest-end summary goes wrong; each
is checked against the hand answer, the oracle and the fast funnel.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
import pytest

from journeykit.analytics import funnel
from journeykit.analytics.milestones import AnalyticsError
from journeykit.journey import Journey
from tests import oracle
from tests.analytics.strategies import make_journey
from tests.builders import Event, events_for, to_arrow

# m0 and m2 both match "a": an "a" event carries two tags.
SHARED = make_journey({"m0": "a", "m1": "b", "m2": "a"}, {"main": ["m0", "m1", "m2"]})


def both(events: list[Event], journey: Journey, **kw: object) -> tuple[list[int], list[int]]:
    table = ibis.duckdb.connect().create_table("events", to_arrow(events))
    got = funnel(table, journey, **kw)  # type: ignore[arg-type]
    want = oracle.funnel(events, journey, **kw)  # type: ignore[arg-type]
    return [s.customers for s in got.steps], [s["customers"] for s in want["steps"]]


@pytest.mark.parametrize("mode", ["ordered", "strict"])
def test_an_event_cannot_serve_the_first_and_the_last_step(mode: str) -> None:
    # a@0 (m0 and m2), b@0 (m1): path order m0 < m1 < m2 at one timestamp, but m2 would reuse
    # the event that started the attempt, so the customer stops at m1.
    events = events_for({"c": [("a", "2024-01-01"), ("b", "2024-01-01")]})
    assert both(events, SHARED, mode=mode) == ([1, 1, 0], [1, 1, 0])


@pytest.mark.parametrize("mode", ["ordered", "strict"])
def test_a_second_event_of_the_shared_name_completes_the_path(mode: str) -> None:
    events = events_for(
        {"c": [("a", "2024-01-01"), ("b", "2024-01-01"), ("a", "2024-01-01 00:00:01")]}
    )
    assert both(events, SHARED, mode=mode) == ([1, 1, 1], [1, 1, 1])


def test_identical_events_are_two_events() -> None:
    # Two identical "a" rows (same key): one can start, the other can finish.
    events = events_for({"c": [("a", "2024-01-01"), ("a", "2024-01-01"), ("b", "2024-01-01")]})
    assert both(events, SHARED) == ([1, 1, 1], [1, 1, 1])


def test_any_order_needs_distinct_events() -> None:
    journey = make_journey({"m0": "x", "m1": "a", "m2": "a"}, {"main": ["m1", "m2"]})
    one = events_for({"c": [("a", "2024-01-01")]})
    assert both(one, journey, mode="any") == ([1, 0], [1, 0])
    two = events_for({"c": [("a", "2024-01-01"), ("a", "2024-01-02")]})
    assert both(two, journey, mode="any") == ([1, 1], [1, 1])


def test_an_exclusion_at_the_start_time_blocks_the_attempt() -> None:
    journey = make_journey(
        {"m0": "a", "m1": "b", "x": "oops", "m2": "c"}, {"main": ["m0", "m1", "m2"]}
    )
    events = events_for({"c": [("oops", "2024-01-01"), ("a", "2024-01-01"), ("b", "2024-01-02")]})
    assert both(events, journey, exclude=["x"]) == ([1, 0, 0], [1, 0, 0])


def test_the_next_steps_own_window_closes_an_attempt_with_no_funnel_window() -> None:
    journey = make_journey(
        {"m0": "a", "m1": "b", "m2": "c"},
        {"main": ["m0", {"milestone": "m1", "within": "1d"}, "m2"]},
    )
    events = events_for({"c": [("a", "2024-01-01")], "d": [("a", "2024-01-05")]})
    table = ibis.duckdb.connect().create_table("events", to_arrow(events))
    step = funnel(table, journey, window=None).steps[0]
    # now = 2024-01-05: c's day to reach m1 is over (dropped); d still has it (in progress).
    assert (step.dropped, step.in_progress) == (1, 1)


def test_too_many_shared_events_at_one_time_is_an_error_not_a_guess() -> None:
    rows = [("a", "2024-01-01")] * 63 + [("b", "2024-01-01")]
    events = events_for({"c": [(name, when, {"n": i}) for i, (name, when) in enumerate(rows)]})
    table = ibis.duckdb.connect().create_table("events", to_arrow(events))
    with pytest.raises(AnalyticsError, match="more than 62 events at one timestamp"):
        funnel(table, SHARED, window=timedelta(days=1))
