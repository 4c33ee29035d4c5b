"""The funnel, as a specification (DESIGN "Funnel"; docs/metrics.md "Funnel").

First the rules as small named cases (windows, ties, strict, exclusions, optional steps, any
order, in progress vs dropped), each saying why its answer is right; then invariants on random
logs, and the fast kernels against the brute-force oracle in every mode. ClickHouse's
`windowFunnel` is the peer: `test_funnel_chdb.py`.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import ibis
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel
from tests import oracle
from tests.analytics.cases import (
    ABC,
    D30,
    ONBOARDING,
    Scenario,
    counts,
    dt,
    events_table,
    has_data,
    states,
    us,
)
from tests.analytics.strategies import make_journey, scenarios
from tests.builders import events_for


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


@pytest.mark.parametrize("mode", ["ordered", "strict", "any"])
@settings(settings.get_profile("analytics"), phases=[Phase.explicit, Phase.generate])
@given(case=scenarios(), data=st.data())
def test_funnel_agrees_with_oracle(
    con: ibis.BaseBackend, mode: str, case: Scenario, data: st.DataObject
) -> None:
    journey, events, window, now = case
    if not has_data(events, now):
        return
    # Exclusions: a milestone off the main path (any-order funnels refuse them).
    off = [m.id for m in journey.milestones if m.id not in journey.path().milestone_ids]
    choices = [[], *([m] for m in off)] if mode != "any" else [[]]
    exclude = data.draw(st.sampled_from(choices), label="exclude")
    expected = oracle.funnel(events, journey, mode=mode, window=window, now=now, exclude=exclude)  # type: ignore[arg-type]
    got = funnel(
        events_table(con, events), journey, mode=mode, window=window, now=now, exclude=exclude
    )  # type: ignore[arg-type]
    assert [
        {
            "milestone": s.milestone,
            "customers": s.customers,
            "dropped": s.dropped,
            "in_progress": s.in_progress,
        }
        for s in got.steps
    ] == expected["steps"]
    furthest = {str(c): int(k) + 1 for c, k in zip(got.customer_ids, got.furthest, strict=True)}
    assert furthest == expected["furthest"]
    if mode == "any":
        return
    assert got.step_times is not None
    for c, level, times in zip(got.customer_ids, got.furthest, got.step_times, strict=True):
        assert list(times[: level + 1]) == [us(t) for t in expected["times"][str(c)]], c
