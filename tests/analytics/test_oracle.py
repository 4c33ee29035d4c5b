"""Hand-computed cases that pin the oracle itself, then invariants on random logs.

Each case says in one line why the answer is what it is, from DESIGN.md and docs/metrics.md.
"""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.journey import EventRule
from tests import oracle
from tests.analytics.strategies import make_journey, scenarios
from tests.builders import Event, events_for, to_arrow

D30 = timedelta(days=30)


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


def counts(result: dict) -> list[int]:
    return [s["customers"] for s in result["steps"]]


def states(result: dict) -> list[tuple[int, int]]:
    return [(s["dropped"], s["in_progress"]) for s in result["steps"]]


ONBOARDING = make_journey(
    {"opt_in": "opt_in", "trial": "trial_start", "purchase": "purchase"},
    {"onboarding": ["opt_in", "trial", "purchase"]},
)
ABC = make_journey({"a": "a", "b": "b", "c": "c"}, {"main": ["a", "b", "c"]})


# --------------------------------------------------------------------------- builders


def test_events_for_accepts_dates_texts_and_datetimes() -> None:
    log = events_for(
        {
            "ana": [
                ("opt_in", "2024-01-01"),
                ("trial_start", "2024-01-03 10:00", {"plan": "pro"}, 49),
                ("x", date(2024, 1, 4)),
                ("y", datetime(2024, 1, 5, 1, 2, 3, 4)),
                ("z", "2024-01-06 07:08:09"),
            ]
        }
    )
    assert [e.timestamp for e in log] == [
        dt("2024-01-01"),
        dt("2024-01-03 10:00"),
        dt("2024-01-04"),
        datetime(2024, 1, 5, 1, 2, 3, 4),
        dt("2024-01-06 07:08:09"),
    ]
    assert log[1] == Event("ana", "trial_start", dt("2024-01-03 10:00"), 49.0, {"plan": "pro"})


def test_to_arrow_has_the_canonical_schema() -> None:
    table = to_arrow(
        events_for({"ana": [("a", "2024-01-01", {"b": 1, "a": True}, 2), ("b", "2024-01-02")]})
    )
    assert table.schema.types == [
        pa.string(),
        pa.string(),
        pa.timestamp("us"),
        pa.float64(),
        pa.string(),
    ]
    assert table.column_names == ["customer_id", "event", "timestamp", "value", "properties"]
    # Sorted keys, JSON text; no properties is null, not "{}".
    assert table.column("properties").to_pylist() == [json.dumps({"a": True, "b": 1}), None]
    assert table.column("value").to_pylist() == [2.0, None]


# --------------------------------------------------------------------------- matching


def ev(props: dict | None = None, value: float | None = None, name: str = "e") -> Event:
    return Event("c", name, dt("2024-01-01"), value, props or {})


def rule(doc: object) -> EventRule:
    return EventRule.model_validate(doc)


@pytest.mark.parametrize(
    ("doc", "event", "expected"),
    [
        ({"event": "e", "properties": {"n": 1}}, ev({"n": 1.0}), True),  # 1 == 1.0
        ({"event": "e", "properties": {"n": 1}}, ev({"n": "1"}), False),  # "1" is not a number
        (
            {"event": "e", "properties": {"n": 1}},
            ev({"n": True}),
            False,
        ),  # bools are their own kind
        ({"event": "e", "properties": {"n": True}}, ev({"n": 1}), False),  # ...both ways
        (
            {"event": "e", "properties": {"n": {"gt": 0}}},
            ev({"n": "5"}),
            False,
        ),  # strings never compare
        (
            {"event": "e", "properties": {"n": {"gte": 0}}},
            ev({"n": False}),
            False,
        ),  # bools never compare
        ({"event": "e", "properties": {"n": {"lte": 5}}}, ev({"n": 5}), True),  # inclusive bound
        (
            {"event": "e", "properties": {"n": {"ne": "x"}}},
            ev(),
            False,
        ),  # missing fails ne (SQL NULL)
        (
            {"event": "e", "properties": {"n": {"not_in": ["x"]}}},
            ev(),
            False,
        ),  # missing fails not_in
        (
            {"event": "e", "properties": {"n": {"ne": "x"}}},
            ev({"n": None}),
            False,
        ),  # JSON null is missing
        (
            {"event": "e", "properties": {"n": {"ne": "x"}}},
            ev({"n": 3}),
            True,
        ),  # other kind: not equal
        (
            {"event": "e", "properties": {"n": {"exists": False}}},
            ev(),
            True,
        ),  # only exists:false holds
        ({"event": "e", "properties": {"n": {"exists": True}}}, ev({"n": 0}), True),  # 0 exists
        ({"event": "e", "properties": {"n": ["a", 2]}}, ev({"n": 2.0}), True),  # in: 2 == 2.0
        ({"event": "e", "value": {"gte": 10}}, ev(value=None), False),  # no value fails comparisons
        ({"event": "e", "value": {"gt": 0, "lt": 10}}, ev(value=5.0), True),  # all operators hold
        ({"event": ["x", "e"]}, ev(), True),  # one of the names
        ({"event": "x", "any": [{"event": "e"}]}, ev(), False),  # all parts must hold
        (
            {"any": [{"event": "x"}, {"value": {"exists": True}}]},
            ev(value=1.0),
            True,
        ),  # one sub-rule
    ],
)
def test_matches(doc: object, event: Event, expected: bool) -> None:
    assert oracle.matches(rule(doc), event) is expected


def test_milestone_log_tags_every_milestone_and_drops_events_after_now() -> None:
    j = make_journey(
        {"buy": "purchase", "referral": {"event": "purchase", "properties": {"ref": True}}}
    )
    log = events_for(
        {
            "a": [
                ("purchase", "2024-01-01", {"ref": True}),
                ("purchase", "2024-02-01", {"ref": True}),
            ]
        }
    )
    # One event, two milestones; the February event is after now.
    got = oracle.milestone_log(log, j, now=dt("2024-01-15"))
    assert [(e.timestamp, m) for e, m in got] == [
        (dt("2024-01-01"), "buy"),
        (dt("2024-01-01"), "referral"),
    ]


# --------------------------------------------------------------------------- funnel


def test_style_example_counts_each_customer_once_within_window() -> None:
    log = events_for(
        {
            "ana": [
                ("opt_in", "2024-01-01"),
                ("trial_start", "2024-01-03"),
                ("purchase", "2024-01-20"),
            ],
            "ben": [("opt_in", "2024-01-02"), ("purchase", "2024-01-04")],
            "cy": [("opt_in", "2024-01-05"), ("trial_start", "2024-03-30")],
        }
    )
    got = oracle.funnel(log, ONBOARDING, window=D30)
    # ana all three; ben skipped the (non-optional) trial; cy's trial is 85 days after opt-in.
    assert counts(got) == [3, 1, 1]
    assert got["furthest"] == {"ana": 3, "ben": 1, "cy": 1}
    # now = 2024-03-30: ben and cy started > 30 days ago, so both dropped at step 1.
    assert states(got) == [(2, 0), (0, 0), (0, 0)]
    assert got["times"]["ana"] == [dt("2024-01-01"), dt("2024-01-03"), dt("2024-01-20")]


def test_a_later_start_beats_an_earlier_one() -> None:
    log = events_for(
        {"x": [("a", "2024-01-01"), ("a", "2024-01-20"), ("b", "2024-01-22"), ("c", "2024-01-25")]}
    )
    got = oracle.funnel(log, ABC, window=timedelta(days=10))
    # From Jan 1, b is 21 days away (> 10); from Jan 20 all three fit.
    assert got["furthest"] == {"x": 3}
    assert got["start"] == {"x": dt("2024-01-20")}
    assert got["times"]["x"] == [dt("2024-01-20"), dt("2024-01-22"), dt("2024-01-25")]


def test_the_earliest_start_wins_when_several_reach_the_furthest_step() -> None:
    log = events_for({"x": [("a", "2024-01-01"), ("a", "2024-01-02"), ("b", "2024-01-03")]})
    # Both starts reach step 2; ties go to the earliest.
    assert oracle.funnel(log, ABC, window=D30)["start"] == {"x": dt("2024-01-01")}


def test_ties_at_one_timestamp_are_taken_in_path_order() -> None:
    log = events_for(
        {
            "same": [("c", "2024-01-01"), ("b", "2024-01-01"), ("a", "2024-01-01")],
            "late_a": [("b", "2024-01-01"), ("a", "2024-01-02")],
        }
    )
    got = oracle.funnel(log, ABC, window=D30)
    # Equal times read a, b, c whatever the input order; b before a does not count.
    assert got["furthest"] == {"same": 3, "late_a": 1}


def test_an_event_with_two_milestones_serves_one_step() -> None:
    j = make_journey(
        {"joined": "join", "paid": {"event": "join", "value": {"gt": 0}}},
        {"main": ["joined", "paid"]},
    )
    one = events_for({"x": [("join", "2024-01-01", None, 10)]})
    two = events_for({"x": [("join", "2024-01-01", None, 10), ("join", "2024-01-01", None, 10)]})
    # One event cannot be both steps; two identical events can.
    assert oracle.funnel(one, j, window=D30)["furthest"] == {"x": 1}
    assert oracle.funnel(two, j, window=D30)["furthest"] == {"x": 2}


def test_window_edge_is_inclusive_at_microseconds() -> None:
    on_edge = events_for({"x": [("a", "2024-01-01"), ("b", "2024-01-31")]})
    past = events_for({"x": [("a", "2024-01-01"), ("b", datetime(2024, 1, 31, 0, 0, 0, 1))]})
    # tj - t1 <= W passes at exactly 30 days; one microsecond more fails.
    assert oracle.funnel(on_edge, ABC, window=D30)["furthest"] == {"x": 2}
    assert oracle.funnel(past, ABC, window=D30)["furthest"] == {"x": 1}


def test_strict_mode_is_blocked_by_another_path_milestone() -> None:
    log = events_for(
        {"x": [("a", "2024-01-01"), ("c", "2024-01-02"), ("b", "2024-01-03"), ("c", "2024-01-04")]}
    )
    # Ordered: a, b, c(Jan 4). Strict: the c of Jan 2 sits between a and b, and every a->b uses it.
    assert oracle.funnel(log, ABC, window=D30)["furthest"] == {"x": 3}
    assert oracle.funnel(log, ABC, window=D30, mode="strict")["furthest"] == {"x": 1}


def test_strict_mode_allows_repeats_of_the_two_steps_own_milestones() -> None:
    log = events_for({"x": [("a", "2024-01-01"), ("a", "2024-01-02"), ("b", "2024-01-03")]})
    got = oracle.funnel(log, ABC, window=D30, mode="strict")
    # The second a is not "another milestone" for the step a->b, so the earliest start stands.
    assert got["furthest"] == {"x": 2}
    assert got["start"] == {"x": dt("2024-01-01")}


def test_strict_mode_tie_in_path_order_is_not_between() -> None:
    log = events_for({"x": [("a", "2024-01-02"), ("b", "2024-01-02"), ("c", "2024-01-02")]})
    # At one timestamp the order is a, b, c: nothing lies between a and b, or b and c.
    assert oracle.funnel(log, ABC, window=D30, mode="strict")["furthest"] == {"x": 3}


def test_exclusion_blocks_and_a_later_attempt_succeeds() -> None:
    j = make_journey({"a": "a", "b": "b", "x": "x"}, {"main": ["a", "b"]})
    blocked = events_for({"p": [("a", "2024-01-01"), ("x", "2024-01-02"), ("b", "2024-01-03")]})
    later = events_for(
        {"p": [("a", "2024-01-01"), ("x", "2024-01-02"), ("a", "2024-01-04"), ("b", "2024-01-05")]}
    )
    at_step = events_for({"p": [("a", "2024-01-01"), ("x", "2024-01-03"), ("b", "2024-01-03")]})
    assert oracle.funnel(blocked, j, window=D30, exclude=["x"])["furthest"] == {"p": 1}
    # The attempt from Jan 4 does not span the excluded event.
    got = oracle.funnel(later, j, window=D30, exclude=["x"])
    assert (got["furthest"], got["start"]) == ({"p": 2}, {"p": dt("2024-01-04")})
    # "At or between": an excluded event at the second step's own time blocks too.
    assert oracle.funnel(at_step, j, window=D30, exclude=["x"])["furthest"] == {"p": 1}


def test_optional_step_skipped_counts_as_passed() -> None:
    j = make_journey(
        {"a": "a", "b": "b", "c": "c"}, {"main": ["a", {"milestone": "b", "optional": True}, "c"]}
    )
    log = events_for({"x": [("a", "2024-01-01"), ("c", "2024-01-05")], "y": [("a", "2024-01-01")]})
    got = oracle.funnel(log, j, window=D30)
    # x skipped b and went on: counted at b; y only started.
    assert counts(got) == [2, 1, 1]
    # A skipped step is passed when the attempt goes on past it (at c's time).
    assert got["times"]["x"] == [dt("2024-01-01"), dt("2024-01-05"), dt("2024-01-05")]


def test_per_step_within_fails_while_the_total_window_passes() -> None:
    j = make_journey({"a": "a", "b": "b"}, {"main": ["a", {"milestone": "b", "within": "2d"}]})
    log = events_for({"x": [("a", "2024-01-01"), ("b", "2024-01-05")]})
    # 4 days <= 30-day window but > 2-day step window.
    assert oracle.funnel(log, j, window=D30)["furthest"] == {"x": 1}


def test_per_step_within_runs_from_the_step_used_before_a_skipped_one() -> None:
    j = make_journey(
        {"a": "a", "b": "b", "c": "c"},
        {"main": ["a", {"milestone": "b", "optional": True}, {"milestone": "c", "within": "2d"}]},
    )
    log = events_for({"x": [("a", "2024-01-01"), ("b", "2024-01-04"), ("c", "2024-01-05")]})
    # Via b: c is 1 day after b. Skipping b: c is 4 days after a (fails). Via b wins.
    assert oracle.funnel(log, j, window=D30)["furthest"] == {"x": 3}


def test_times_take_the_first_pass_of_each_step_from_the_chosen_start() -> None:
    j = make_journey(
        {"a": "a", "b": "b", "c": "c"}, {"main": ["a", "b", {"milestone": "c", "within": "2d"}]}
    )
    log = events_for(
        {"x": [("a", "2024-01-01"), ("b", "2024-01-02"), ("b", "2024-01-05"), ("c", "2024-01-06")]}
    )
    # b is first passed on Jan 2; c only via the Jan 5 b (4 days from the Jan 2 b is too long).
    assert oracle.funnel(log, j, window=D30)["times"]["x"] == [
        dt("2024-01-01"),
        dt("2024-01-02"),
        dt("2024-01-06"),
    ]


def test_any_order() -> None:
    log = events_for({"x": [("c", "2024-01-01"), ("b", "2024-01-02"), ("a", "2024-01-03")]})
    got = oracle.funnel(log, ABC, window=timedelta(days=2), mode="any")
    # All three within 2 days, any order; ordered would stop at a. No timing in this mode.
    assert got["furthest"] == {"x": 3}
    assert oracle.funnel(log, ABC, window=timedelta(days=2))["furthest"] == {"x": 1}
    assert (got["start"], got["times"]) == ({}, {})
    too_wide = oracle.funnel(log, ABC, window=timedelta(days=1), mode="any")
    # With 1 day: {a, b} spans 1 day (step 2); {a, b, c} spans 2 days (no step 3).
    assert too_wide["furthest"] == {"x": 2}


def test_any_order_needs_the_step_itself_and_the_required_steps_before_it() -> None:
    j = make_journey(
        {"a": "a", "b": "b", "c": "c"}, {"main": ["a", {"milestone": "b", "optional": True}, "c"]}
    )
    only_a = events_for({"x": [("a", "2024-01-01")]})
    a_and_c = events_for({"x": [("c", "2024-01-01"), ("a", "2024-01-02")]})
    # Optional b is not reached without its own event; c needs a (b optional) and c.
    assert oracle.funnel(only_a, j, window=D30, mode="any")["furthest"] == {"x": 1}
    assert oracle.funnel(a_and_c, j, window=D30, mode="any")["furthest"] == {"x": 3}


def test_in_progress_versus_dropped_at_now() -> None:
    log = events_for(
        {
            "ana": [("a", "2024-01-01")],
            "ben": [("a", "2023-12-01")],
            "cy": [("a", "2023-12-01"), ("b", "2023-12-02")],
        }
    )
    got = oracle.funnel(log, ABC, window=D30, now=dt("2024-01-20"))
    # ana: 19 days <= 30, still has time. ben: 50 days, dropped. cy: dropped at step 2.
    assert states(got) == [(1, 1), (1, 0), (0, 0)]


def test_in_progress_needs_only_some_attempt_with_time_left() -> None:
    log = events_for({"x": [("a", "2024-01-01"), ("a", "2024-01-25")]})
    got = oracle.funnel(log, ABC, window=D30, now=dt("2024-02-10"))
    # The Jan 1 attempt has expired, the Jan 25 one has 14 days left; start is still Jan 1.
    assert states(got)[0] == (0, 1)
    assert got["start"] == {"x": dt("2024-01-01")}


def test_next_step_within_closes_the_attempt_before_the_window() -> None:
    j = make_journey({"a": "a", "b": "b"}, {"main": ["a", {"milestone": "b", "within": "2d"}]})
    log = events_for({"x": [("a", "2024-01-01")]})
    # 4 days after a: window open, but b can no longer come within 2 days; at 2 days exactly it can.
    assert states(oracle.funnel(log, j, window=D30, now=dt("2024-01-05")))[0] == (1, 0)
    assert states(oracle.funnel(log, j, window=D30, now=dt("2024-01-03")))[0] == (0, 1)


def test_no_window_never_expires() -> None:
    log = events_for({"x": [("a", "2020-01-01"), ("b", "2024-01-01")], "y": [("a", "2020-01-01")]})
    got = oracle.funnel(log, ABC, window=None)
    # Four years apart still counts; y has not dropped, and nobody is dropped without a window.
    assert got["furthest"] == {"x": 2, "y": 1}
    assert states(got) == [(0, 1), (0, 1), (0, 0)]


def test_the_last_step_is_neither_dropped_nor_in_progress_and_events_after_now_are_ignored() -> (
    None
):
    log = events_for({"x": [("a", "2024-01-01"), ("b", "2024-01-02"), ("c", "2024-01-03")]})
    assert states(oracle.funnel(log, ABC, window=D30)) == [(0, 0), (0, 0), (0, 0)]
    # As of Jan 2, c has not happened yet: x is at step 2 with time left.
    got = oracle.funnel(log, ABC, window=D30, now=dt("2024-01-02"))
    assert got["furthest"] == {"x": 2} and states(got)[1] == (0, 1)


# --------------------------------------------------------------------------- positions

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


# --------------------------------------------------------------------------- paths, cohorts, stats


def test_paths_collapse_repeats_and_time_transitions_from_the_last_of_a_run() -> None:
    log = events_for(
        {
            "x": [
                ("a", "2024-01-01"),
                ("a", "2024-01-02"),
                ("b", "2024-01-04"),
                ("b", "2024-01-05"),
                ("a", "2024-01-06"),
            ],
            "y": [("b", "2024-01-01"), ("a", "2024-01-01")],
            "z": [("noise", "2024-01-01")],
        }
    )
    got = oracle.paths(log, ABC)
    # y's tie is read in journey order (a, b). a->b: x 2 days (Jan 2 -> Jan 4), y 0 s.
    assert got["variants"] == [(("a", "b"), 1), (("a", "b", "a"), 1)]
    assert got["total"] == 2
    assert got["transitions"] == {("a", "b"): (2, 86_400.0), ("b", "a"): (1, 86_400.0)}
    assert oracle.paths(log, ABC, top=1)["variants"] == [(("a", "b"), 1)]


def test_variants_sort_by_customers_then_steps() -> None:
    log = events_for(
        {"p": [("b", "2024-01-01")], "q": [("a", "2024-01-01")], "r": [("b", "2024-01-01")]}
    )
    assert oracle.paths(log, ABC)["variants"] == [(("b",), 2), (("a",), 1)]


def test_cohorts_by_iso_week() -> None:
    log = events_for(
        {
            "sun": [("opt_in", "2024-01-07 23:00"), ("trial_start", "2024-02-06 23:00")],
            "mon": [("opt_in", "2024-01-08"), ("trial_start", "2024-02-07 00:00:01")],
            "early": [("trial_start", "2024-01-01"), ("opt_in", "2024-01-09")],
        }
    )
    got = oracle.cohorts(log, ONBOARDING, days=30)
    # Sunday Jan 7 belongs to the week of Monday Jan 1; trial at exactly 30 days counts.
    assert got[date(2024, 1, 1)] == {
        "customers": 1,
        "reached": {"opt_in": 1, "trial": 1, "purchase": 0},
    }
    # mon's trial is 30 days + 1 s after entry; early's first trial came before entry.
    assert got[date(2024, 1, 8)] == {
        "customers": 2,
        "reached": {"opt_in": 2, "trial": 0, "purchase": 0},
    }


def test_time_stats_interpolate_linearly() -> None:
    # Sorted [1, 2, 3, 4]: rank (n-1)q -> 1.5, 0.75, 2.25, 2.7.
    assert oracle.time_stats([4, 1, 3, 2]) == {
        "median": 2.5,
        "p25": 1.75,
        "p75": 3.25,
        "p90": pytest.approx(3.7),
    }
    assert oracle.time_stats([7]) == {"median": 7.0, "p25": 7.0, "p75": 7.0, "p90": 7.0}
    assert oracle.time_stats([]) == {"median": None, "p25": None, "p75": None, "p90": None}


# --------------------------------------------------------------------------- invariants


@settings.get_profile("analytics")
@given(scenario=scenarios())
def test_funnel_invariants(scenario) -> None:
    journey, log, window, now = scenario
    ordered = oracle.funnel(log, journey, window=window, now=now)
    strict = oracle.funnel(log, journey, window=window, now=now, mode="strict")
    anyorder = oracle.funnel(log, journey, window=window, now=now, mode="any")
    for got in (ordered, strict, anyorder):
        n = counts(got)
        assert n == sorted(n, reverse=True)
        for j, step in enumerate(got["steps"][:-1]):
            assert step["dropped"] + step["in_progress"] == n[j] - n[j + 1]
            assert window is not None or step["dropped"] == 0
    for c, k in ordered["furthest"].items():
        times = ordered["times"][c]
        assert len(times) == k and times == sorted(times) and times[0] == ordered["start"][c]
        # Strict only removes attempts; any-order only relaxes them.
        assert strict["furthest"][c] <= k <= anyorder["furthest"][c]


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


def _every_valid_sequence(tags: list, spec: oracle._Spec) -> set:
    """Attempts the slow way: every step subset and every event choice, then check each pair."""
    n, found = len(spec.steps), set()
    for r in range(1, n + 1):
        for steps in itertools.combinations(range(n), r):
            skips = [k for a, b in itertools.pairwise(steps) for k in range(a + 1, b)]
            if steps[0] != 0 or not all(spec.steps[k].optional for k in skips):
                continue
            for combo in itertools.product(*(oracle._uses(tags, spec, s) for s in steps)):
                if all(oracle._may_follow(tags, spec, combo[:i], combo[i]) for i in range(1, r)):
                    found.add(combo)
    return found


@settings.get_profile("analytics")
@given(
    scenario=scenarios(), strict=st.booleans(), exclude=st.sampled_from([(), ("m2",), ("m0", "m4")])
)
def test_growing_prefixes_finds_every_attempt(scenario, strict: bool, exclude: tuple) -> None:
    # The oracle's enumeration leans on prefix closure; check it against the plain product.
    journey, log, window, now = scenario
    spec = oracle._Spec(
        journey.path().steps, window, "strict" if strict else "ordered", frozenset(exclude)
    )
    for tags in oracle._tagged_by_customer(log, journey, now).values():
        attempts = oracle.ordered_attempts(tags, spec)
        assert len(attempts) == len(set(attempts))
        assert set(attempts) == _every_valid_sequence(tags, spec)


def test_time_to_convert_uses_the_chosen_attempts_times() -> None:
    log = events_for(
        {
            "x": [("a", "2024-01-01"), ("b", "2024-01-02"), ("c", "2024-01-05")],
            "y": [("a", "2024-01-01"), ("b", "2024-01-04")],
        }
    )
    got = oracle.time_to_convert(oracle.funnel(log, ABC, window=D30))
    day = 86_400.0
    # b: x 1 day, y 3 days after a (median 2 days); c: x only, 3 days after b, 4 after a.
    assert got[1]["from_previous"]["median"] == 2 * day
    assert got[2]["from_previous"]["p90"] == 3 * day and got[2]["from_start"]["median"] == 4 * day
    assert got[0]["from_previous"]["median"] is None and got[0]["from_start"]["median"] == 0.0
