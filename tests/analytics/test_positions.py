"""Positions and status (DESIGN "Position", "Status", "Strays"; `analytics/status.py`).

Hand cases for each status and stray, then invariants on random logs and the oracle.
"""

from __future__ import annotations

from datetime import timedelta

import ibis
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import positions
from tests import oracle
from tests.analytics.cases import Scenario, dt, events_table, has_data, us
from tests.analytics.strategies import make_journey, scenarios
from tests.builders import events_for

PATH4 = make_journey(
    {"a": "a", "b": "b", "c": "c", "d": "d", "z": "z"},
    {"main": ["a", "b", "c", "d"], "other": ["a", "z"]},
    expected_within={"c": "10d"},
)


def pos(log: dict, journey=PATH4, **kw) -> dict:
    return oracle.positions(events_for(log), journey, **kw)


def test_position_status_completed_and_on_track() -> None:
    got = pos(
        {
            "x": [
                ("a", "2024-01-01"),
                ("b", "2024-01-02"),
                ("c", "2024-01-03"),
                ("d", "2024-01-04"),
            ],
            "y": [("a", "2024-01-03"), ("b", "2024-01-03")],
        }
    )
    # x reached the final milestone; y is at b for 1 day, under c's expected 10 days.
    assert got["x"]["status"] == "completed" and got["x"]["milestone"] == "d"
    assert (got["y"]["milestone"], got["y"]["reached_at"], got["y"]["status"]) == (
        "b",
        dt("2024-01-03"),
        "on_track",
    )


def test_stuck_uses_the_next_milestones_expected_within() -> None:
    got = pos(
        {
            "x": [("a", "2024-01-01"), ("b", "2024-01-02")],
            "y": [("a", "2024-01-01"), ("b", "2024-01-02"), ("noise", "2024-01-11")],
        },
        now=dt("2024-01-12 00:00:01"),
    )
    # At b for 10 days + 1 s > c's expected 10 days: stuck (noise does not move the position).
    assert got["x"]["status"] == "stuck" and got["y"]["status"] == "stuck"
    assert (
        pos({"x": [("a", "2024-01-01"), ("b", "2024-01-02")]}, now=dt("2024-01-12"))["x"]["status"]
        == "on_track"
    )


def test_stuck_threshold_is_the_p90_of_observed_gaps() -> None:
    # a -> b has no expected_within: p90 of gaps 1..5 days = 4 + 0.6 = 4.6 days; negative gap ignored.
    done = {f"d{k}": [("a", "2024-01-01"), ("b", f"2024-01-0{1 + k}")] for k in range(1, 6)}
    done["neg"] = [("b", "2024-01-01"), ("a", "2024-01-09")]
    log = {**done, "in": [("a", "2024-01-05 14:00")], "out": [("a", "2024-01-05 09:00")]}
    got = pos(log, now=dt("2024-01-10"))
    # in: 4 days 10 h < 4.6 days (4 d 14.4 h); out: 4 days 15 h > 4.6 days.
    assert (got["in"]["status"], got["out"]["status"]) == ("on_track", "stuck")
    j = PATH4
    firsts = oracle.first_reach(events_for(log), j)
    assert oracle.stuck_threshold(firsts, j, j.path("main"), 0) == 46 * 86_400 * 100_000


def test_nobody_is_stuck_without_a_threshold() -> None:
    got = pos({"x": [("a", "2023-06-01"), ("noise", "2024-01-01")]})
    # Nobody reached both a and b, and b has no expected_within: no threshold, not stuck.
    assert got["x"]["status"] == "on_track"


def test_lapsed_looks_at_events_of_any_kind() -> None:
    got = pos(
        {
            "old": [("a", "2024-01-01")],
            "noisy": [("a", "2024-01-01"), ("noise", "2024-03-25")],
            "edge": [("a", "2024-01-10")],
        },
        now=dt("2024-04-09"),
    )
    # old: 99 days silent; noisy: 15 days since a noise event; edge: exactly 90 days (at least 90).
    assert got["old"]["status"] == "lapsed"
    assert got["noisy"]["status"] != "lapsed"
    assert got["edge"]["status"] == "lapsed"


def test_lapsed_at_the_horizon_on_the_engine(con: ibis.BaseBackend) -> None:
    # Only events inside the horizon are read for candidates (position._last_seen_if_needed):
    # an event exactly 90 days before now still leaves the customer lapsed, one a microsecond
    # later does not; with now taken from the data and given.
    events = events_for(
        {
            "edge": [("a", "2024-01-01"), ("noise", "2024-01-10")],
            "inside": [("a", "2024-01-01"), ("noise", "2024-01-10 00:00:00.000001")],
            "old": [("a", "2024-01-01")],
            "late": [("b", "2024-04-09")],
        }
    )
    table = events_table(con, events)
    for now in (None, dt("2024-04-09")):
        placed = positions(table, PATH4, now=now, lapsed_after=timedelta(days=90))
        got = {c.customer_id: c.status for c in placed.customers}
        assert got == {"edge": "lapsed", "inside": "on_track", "old": "lapsed", "late": "strayed"}


def test_completed_wins_over_lapsed() -> None:
    got = pos(
        {
            "x": [
                ("a", "2023-01-01"),
                ("b", "2023-01-01"),
                ("c", "2023-01-01"),
                ("d", "2023-01-01"),
            ],
            "y": [("noise", "2024-01-01")],
        }
    )
    assert got["x"]["status"] == "completed"
    assert "y" not in got  # no path milestone: not placed


def test_each_stray_type() -> None:
    got = pos(
        {
            "skip": [("a", "2024-01-01"), ("c", "2024-01-02")],
            "order": [("a", "2024-01-01"), ("c", "2024-01-02"), ("b", "2024-01-03")],
            "back": [("a", "2024-01-01"), ("b", "2024-01-02"), ("a", "2024-01-03")],
            # At a for 1 day only: under the a -> b p90 (1.9 days from back and order).
            "off": [("a", "2024-01-03"), ("z", "2024-01-03")],
        },
        now=dt("2024-01-04"),
    )
    assert got["skip"]["strays"] == [("skipped", ("b",))]
    # b was first reached after c; the latest event is b, earlier on the path than c.
    assert got["order"]["strays"] == [("backwards", ("b", "c")), ("out_of_order", ("b", "c"))]
    assert got["back"]["strays"] == [("backwards", ("a", "b"))]
    assert got["off"]["strays"] == [("off_path", ("z",))]
    assert {c: got[c]["status"] for c in got} == dict.fromkeys(got, "strayed")


def test_stray_ties_and_optional_steps() -> None:
    j = make_journey(
        {"a": "a", "b": "b", "c": "c"}, {"main": ["a", {"milestone": "b", "optional": True}, "c"]}
    )
    got = pos({"x": [("a", "2024-01-01"), ("c", "2024-01-02"), ("a", "2024-01-02")]}, journey=j)
    # b is optional, so not skipped; a and c tie at the latest time, taken in path order: c is latest.
    assert got["x"]["strays"] == []


@settings.get_profile("analytics")
@given(scenario=scenarios())
def test_positions_invariants(scenario) -> None:
    journey, log, _, now = scenario
    path = journey.path()
    got = oracle.positions(log, journey, now=now)
    funnel = oracle.funnel(log, journey, window=None, now=now)
    for c, row in got.items():
        assert row["status"] in {"completed", "lapsed", "stuck", "strayed", "on_track"}
        assert row["strays"] == sorted(row["strays"])
        # Position is at least as far as any ordered attempt gets.
        assert path.milestone_ids.index(row["milestone"]) + 1 >= funnel["furthest"].get(c, 0)


@settings(settings.get_profile("analytics"))
@given(
    case=scenarios(),
    lapsed=st.sampled_from([timedelta(days=90), timedelta(days=1), timedelta(days=3)]),
)
def test_positions_agree_with_oracle(
    con: ibis.BaseBackend, case: Scenario, lapsed: timedelta
) -> None:
    journey, events, _, now = case
    if not has_data(events, now):
        return
    expected = oracle.positions(events, journey, now=now, lapsed_after=lapsed)
    got = positions(events_table(con, events), journey, now=now, lapsed_after=lapsed)
    assert {
        c.customer_id: {
            "milestone": c.milestone,
            "reached_at": c.reached_at,
            "status": c.status,
            "strays": sorted((s.type, s.milestones) for s in c.strays),
        }
        for c in got.customers
    } == {
        c: {**p, "reached_at": us(p["reached_at"]), "strays": sorted(p["strays"])}
        for c, p in expected.items()
    }
