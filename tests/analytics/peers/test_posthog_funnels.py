"""PostHog's own funnel tests, translated: ``semantics="posthog"`` gives their counts.

Source: PostHog/posthog, posthog/hogql_queries/insights/funnels/test/ (each case names its file
and test). PostHog's steps are events, optionally with property filters; here each step is a
milestone with the same rule. PostHog's default conversion window is 14 days. PostHog gives
every event a uuid, so two identical events at one time are two events; the translations carry
a ``uuid`` property to say the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import ibis
import pytest

from journeykit.analytics.results import FunnelResult
from tests.analytics.peers.support import run
from tests.builders import Event

UDF = "posthog/hogql_queries/insights/funnels/test/test_funnel_udf.py"
FOURTEEN_DAYS = timedelta(days=14)


def journeys(people: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[Event]:
    """PostHog's ``journeys_for``: per person, events with ``event``, ``timestamp``, properties."""
    out = []
    for n, (person, events) in enumerate(people.items()):
        for i, e in enumerate(events):
            props = {"uuid": f"{n}-{i}", **e.get("properties", {})}
            out.append(Event(person, e["event"], e["timestamp"], None, props))
    return out


def steps(*names: str) -> list[dict[str, Any]]:
    return [{"event": n} for n in names]


def counts(result: FunnelResult) -> list[int]:
    return [s.customers for s in result.steps]


def test_funnel_with_optional_steps(con: ibis.BaseBackend) -> None:
    """test_funnel_udf.py TestFOSSFunnelUDF.test_funnel_with_optional_steps: [8, 3, 7, 3, 4]."""

    def at(minute: int) -> datetime:
        return datetime(2012, 1, 15, 0, minute, 0)

    names = ["step one", "step two", "step three", "step four", "step five"]
    people = {
        "step1_only": [1],
        "step123": [1, 2, 3],
        "step13": [1, 3],
        "step12345": [1, 2, 3, 4, 5],
        "step1235": [1, 2, 3, 5],
        "step134": [1, 3, 4],
        "step1345": [1, 3, 4, 5],
        "step135": [1, 3, 5],
    }
    events = journeys(
        {
            p: [{"event": names[s - 1], "timestamp": at(s - 1)} for s in done]
            for p, done in people.items()
        }
    )
    got = run(
        con, steps(*names), events, window=FOURTEEN_DAYS, optional=(1, 3), semantics="posthog"
    )
    assert counts(got) == [8, 3, 7, 3, 4], UDF


def test_funnel_with_optional_steps_same_event(con: ibis.BaseBackend) -> None:
    """test_funnel_udf.py TestFOSSFunnelUDF.test_funnel_with_optional_steps_same_event."""

    def at(minute: int, **props: Any) -> dict[str, Any]:
        return {
            "event": "same_event",
            "timestamp": datetime(2012, 1, 15, 0, minute, 0),
            "properties": props,
        }

    events = journeys(
        {
            "one_event": [at(0)],
            "two_events": [at(0), at(1)],
            "three_events": [at(0), at(1), at(2)],
            "three_events_with_match": [at(0), at(1, **{"$current_url": "url"}), at(2)],
        }
    )
    rules = [
        {"event": "same_event"},
        {"event": "same_event"},
        {"event": "same_event", "properties": {"$current_url": "url"}},
        {"event": "same_event"},
    ]
    got = run(con, rules, events, window=FOURTEEN_DAYS, optional=(1,), semantics="posthog")
    assert counts(got) == [4, 2, 1, 1], UDF


def test_events_same_timestamp_no_exclusions(con: ibis.BaseBackend) -> None:
    """test_funnel_udf.py TestFOSSFunnelUDF.test_events_same_timestamp_no_exclusions: ten events
    at one time, steps reusing their names, and the last step is reached by 1 person."""
    when = datetime(2024, 1, 10, 12, 1, 0)
    one, two, four, six = (
        "step one, ten",
        "step two, three, seven",
        "step four, five, eight",
        ("step six, nine"),
    )
    sent = [one, two, two, four, four, six, two, four, six, one]
    events = journeys({"test": [{"event": e, "timestamp": when} for e in sent]})
    path = steps(one, two, two, four, four, six, two, four, six, one)
    got = run(con, path, events, window=FOURTEEN_DAYS, semantics="posthog")
    assert counts(got)[-1] == 1, UDF


def test_excluded_after_time_expires(con: ibis.BaseBackend) -> None:
    """test_funnel_udf.py TestFOSSFunnelUDF.test_excluded_after_time_expires: an exclusion after
    the 10-second window has passed does not exclude; [1, 0]."""
    events = journeys(
        {
            "user_one": [
                {"event": "step one", "timestamp": datetime(2021, 5, 1, 0, 0, 0)},
                {"event": "exclusion", "timestamp": datetime(2021, 5, 1, 0, 0, 11)},
                {"event": "step two", "timestamp": datetime(2021, 5, 1, 0, 0, 12)},
            ]
        }
    )
    got = run(
        con,
        steps("step one", "step two"),
        events,
        window=timedelta(seconds=10),
        extra={"x": {"event": "exclusion"}},
        exclude=["x:1-2"],
        semantics="posthog",
    )
    assert counts(got) == [1, 0], UDF


FACTORY = "posthog/hogql_queries/insights/funnels/test/test_funnel.py (funnel_test_factory)"


def _people(rows: Mapping[str, Sequence[tuple[str, str]]]) -> list[Event]:
    """``{person: [(event, "2021-05-01 01:00:00"), ...]}`` as journeys."""
    return journeys(
        {
            p: [{"event": e, "timestamp": datetime.fromisoformat(t)} for e, t in events]
            for p, events in rows.items()
        }
    )


def _signup_paid(con: ibis.BaseBackend, people: list[Event], window: timedelta) -> FunnelResult:
    return run(
        con,
        steps("user signed up", "paid"),
        people,
        window=window,
        extra={"x": {"event": "x"}},
        exclude=["x:1-2"],
        semantics="posthog",
    )


def test_funnel_exclusion_no_end_event(con: ibis.BaseBackend) -> None:
    """test_funnel_exclusion_no_end_event: person 3 is dropped although nothing followed x;
    person 4's x came after the one-day window. [2, 1]."""
    people = _people(
        {
            "person1": [("user signed up", "2021-05-01 01:00:00"), ("paid", "2021-05-01 02:00:00")],
            "person2": [
                ("user signed up", "2021-05-01 03:00:00"),
                ("x", "2021-05-01 03:30:00"),
                ("paid", "2021-05-01 04:00:00"),
            ],
            "person3": [("user signed up", "2021-05-01 05:00:00"), ("x", "2021-05-01 06:00:00")],
            "person4": [("user signed up", "2021-05-01 07:00:00"), ("x", "2021-05-02 08:00:00")],
        }
    )
    got = _signup_paid(con, people, timedelta(days=1))
    assert counts(got) == [2, 1], FACTORY
    assert sorted(map(str, got.customer_ids)) == ["person1", "person4"]


def test_funnel_exclusions_full_window(con: ibis.BaseBackend) -> None:
    """test_funnel_exclusions_full_window: person 2 is dropped; [2, 2]."""
    people = _people(
        {
            "person1": [("user signed up", "2021-05-01 01:00:00"), ("paid", "2021-05-01 02:00:00")],
            "person2": [
                ("user signed up", "2021-05-01 03:00:00"),
                ("x", "2021-05-01 03:30:00"),
                ("paid", "2021-05-01 04:00:00"),
            ],
            "person3": [("user signed up", "2021-05-01 05:00:00"), ("paid", "2021-05-01 06:00:00")],
        }
    )
    assert counts(_signup_paid(con, people, FOURTEEN_DAYS)) == [2, 2], FACTORY


def _exclusion_one(
    con: ibis.BaseBackend, events: list[tuple[str, str]], expected: list[int]
) -> None:
    people = _people({"user_one": events})
    got = run(
        con,
        steps("step one", "step two"),
        people,
        window=timedelta(seconds=10),
        extra={"x": {"event": "exclusion"}},
        exclude=["x:1-2"],
        semantics="posthog",
    )
    assert counts(got) == expected, FACTORY


def test_funnel_exclusion_multiple_possible_no_end_event1(con: ibis.BaseBackend) -> None:
    """A later start, after the exclusion, counts the person at step 1: [1, 0]."""
    _exclusion_one(
        con,
        [
            ("step one", "2021-05-01 00:00:00"),
            ("exclusion", "2021-05-01 00:00:01"),
            ("step one", "2021-05-01 00:00:31"),
        ],
        [1, 0],
    )


def test_funnel_exclusion_multiple_possible_no_end_event2(con: ibis.BaseBackend) -> None:
    """The exclusion taints only the latest start: [1, 0]."""
    _exclusion_one(
        con,
        [
            ("step one", "2021-05-01 00:00:00"),
            ("step one", "2021-05-01 00:00:31"),
            ("exclusion", "2021-05-01 00:00:32"),
        ],
        [1, 0],
    )


def test_funnel_exclusion_multiple_possible_no_end_event3(con: ibis.BaseBackend) -> None:
    """Both starts are within the window of the exclusion: nobody counts ([0, 0])."""
    _exclusion_one(
        con,
        [
            ("step one", "2021-05-01 00:00:00"),
            ("step one", "2021-05-01 00:00:01"),
            ("exclusion", "2021-05-01 00:00:02"),
        ],
        [0, 0],
    )


FIVE = ("user signed up", "$pageview", "insight viewed", "invite teammate", "pageview2")
BETWEEN = {
    "person1": [
        ("user signed up", "2021-05-01 01:00:00"),
        ("$pageview", "2021-05-01 02:00:00"),
        ("x", "2021-05-01 03:00:00"),
        ("insight viewed", "2021-05-01 04:00:00"),
        ("x", "2021-05-01 04:30:00"),
        ("invite teammate", "2021-05-01 05:00:00"),
        ("x", "2021-05-01 05:30:00"),
        ("pageview2", "2021-05-01 06:00:00"),
    ],
    "person2": [
        ("user signed up", "2021-05-01 01:00:00"),
        ("$pageview", "2021-05-01 02:00:00"),
        ("insight viewed", "2021-05-01 04:00:00"),
        ("x", "2021-05-01 04:30:00"),
        ("invite teammate", "2021-05-01 05:00:00"),
        ("x", "2021-05-01 05:30:00"),
        ("pageview2", "2021-05-01 06:00:00"),
    ],
    "person3": [
        ("user signed up", "2021-05-01 01:00:00"),
        ("x", "2021-05-01 01:30:00"),
        ("$pageview", "2021-05-01 02:00:00"),
        ("insight viewed", "2021-05-01 04:00:00"),
        ("invite teammate", "2021-05-01 05:00:00"),
        ("x", "2021-05-01 05:30:00"),
        ("pageview2", "2021-05-01 06:00:00"),
    ],
}


@pytest.mark.parametrize(
    ("from_to", "first", "last", "who"),
    [
        ((0, 1), 2, 2, ["person1", "person2"]),
        ((1, 2), 2, 2, ["person2", "person3"]),
        ((2, 3), 1, 1, ["person3"]),
        ((3, 4), 0, 0, []),
        ((1, 3), 1, 1, ["person3"]),
    ],
)
def test_advanced_funnel_exclusions_between_steps(
    con: ibis.BaseBackend, from_to: tuple[int, int], first: int, last: int, who: list[str]
) -> None:
    """test_advanced_funnel_exclusions_between_steps: PostHog's funnel_from_step/to_step are
    0-based; journeykit's range is 1-based (``x:{from+1}-{to+1}``)."""
    a, b = from_to
    got = run(
        con,
        steps(*FIVE),
        _people(BETWEEN),
        window=FOURTEEN_DAYS,
        extra={"x": {"event": "x"}},
        exclude=[f"x:{a + 1}-{b + 1}"],
        semantics="posthog",
    )
    assert (got.steps[0].customers, got.steps[4].customers) == (first, last), FACTORY
    assert sorted(map(str, got.customer_ids)) == who


STRICT = "posthog/hogql_queries/insights/funnels/test/test_funnel_strict.py"


def _in_order(rows: Mapping[str, Sequence[str | tuple[str, dict[str, Any]]]]) -> list[Event]:
    """Events created one after another (PostHog's tests stamp each with "now"): a second apart."""
    out: dict[str, list[dict[str, Any]]] = {}
    tick = 0
    for person, events in rows.items():
        for e in events:
            name, props = (e, {}) if isinstance(e, str) else e
            tick += 1
            out.setdefault(person, []).append(
                {"event": name, "timestamp": datetime(2021, 5, 1) + timedelta(seconds=tick),
                 "properties": props}
            )  # fmt: skip
    return journeys(out)


def _reached(result: FunnelResult, step: int) -> list[str]:
    """PostHog's actors at a step (1-based): those who passed it."""
    assert result.passed is not None
    passed = result.passed[:, step - 1]
    return sorted(str(c) for c, ok in zip(result.customer_ids, passed, strict=True) if ok)


def test_basic_strict_funnel(con: ibis.BaseBackend) -> None:
    """test_funnel_strict.py test_basic_strict_funnel: any event in between breaks; [7, 2, 1]."""
    up, view, insight, noise = "user signed up", "$pageview", "insight viewed", "blaah blaa"
    events = _in_order(
        {
            "p1": [up],
            "p2": [view, up],
            "p3": [up, view, noise, insight],
            "p4": [insight, noise, view, up],
            "p5": [view, up, noise, view, insight],
            "p6": [noise, up, noise, view],
            "p7": [noise, up, view, insight, noise],
            "p8": [insight, view],
        }
    )
    got = run(con, steps(up, view, insight), events, window=FOURTEEN_DAYS, mode="strict",
              semantics="posthog")  # fmt: skip
    assert counts(got) == [7, 2, 1], STRICT
    assert _reached(got, 2) == ["p3", "p7"] and _reached(got, 3) == ["p7"]


def test_advanced_strict_funnel(con: ibis.BaseBackend) -> None:
    """test_funnel_strict.py test_advanced_strict_funnel: actions with a property; [8, 6, 5, 1]."""
    up, view, noise = "user signed up", "$pageview", "blaah blaa"
    sign = ("sign up", {"key": "val"})
    page = ("pageview", {"key": "val"})
    events = _in_order(
        {
            "p1": [up],
            "p2": [up, view],
            "p3": [up, sign, ("sign up", {"key": "val2"}), view, noise, "insight viewed"],
            "p4": [noise, up, sign, (view, {"key": "val"}), noise],
            "p5": [noise, up, sign, view, noise],
            "p6": [noise, up, sign, view, ("pageview", {"key": "val1"})],
            "p7": [noise, up, sign, view, up, page],
            "p8": [noise, up, up, sign, view, page],
        }
    )
    rules = [
        {"event": up},
        {"event": "sign up", "properties": {"key": "val"}},
        {"event": view},
        {"event": "pageview", "properties": {"key": "val"}},
    ]
    got = run(con, rules, events, window=FOURTEEN_DAYS, mode="strict", semantics="posthog")
    assert counts(got) == [8, 6, 5, 1], STRICT
    assert _reached(got, 4) == ["p8"]


UNORDERED = "posthog/hogql_queries/insights/funnels/test/test_funnel_unordered.py"
UP, VIEW, INSIGHT, NOISE = "user signed up", "$pageview", "insight viewed", "blaah blaa"


def test_basic_unordered_funnel(con: ibis.BaseBackend) -> None:
    """test_funnel_unordered.py test_basic_unordered_funnel: "Completed k steps"; [8, 5, 3]."""
    events = _in_order(
        {
            "p1": [UP],
            "p2": [VIEW, UP],
            "p3": [UP, VIEW, NOISE, INSIGHT],
            "p4": [INSIGHT, VIEW, UP],
            "p5": [VIEW, UP, NOISE, INSIGHT],
            "p6": [NOISE, INSIGHT],
            "p7": [VIEW, NOISE],
            "p8": [INSIGHT, VIEW],
        }
    )
    got = run(con, steps(UP, VIEW, INSIGHT), events, window=FOURTEEN_DAYS, mode="any",
              semantics="posthog")  # fmt: skip
    assert counts(got) == [8, 5, 3], UNORDERED
    assert _reached(got, 3) == ["p3", "p4", "p5"]
    assert _reached(got, 2) == ["p2", "p3", "p4", "p5", "p8"]


def test_big_multi_step_unordered_funnel(con: ibis.BaseBackend) -> None:
    """test_funnel_unordered.py test_big_multi_step_unordered_funnel: [8, 5, 3, 1]."""
    cry = "crying"
    events = _in_order(
        {
            "p1": [UP],
            "p2": [VIEW, cry],
            "p3": [UP, VIEW, NOISE, INSIGHT],
            "p4": [INSIGHT, cry, UP],
            "p5": [VIEW, UP, cry, INSIGHT],
            "p6": [NOISE, INSIGHT],
            "p7": [VIEW, NOISE],
            "p8": [INSIGHT, VIEW],
        }
    )
    got = run(con, steps(UP, VIEW, INSIGHT, cry), events, window=FOURTEEN_DAYS, mode="any",
              semantics="posthog")  # fmt: skip
    assert counts(got) == [8, 5, 3, 1], UNORDERED
    assert _reached(got, 4) == ["p5"]


def test_basic_unordered_funnel_conversion_times_counts(con: ibis.BaseBackend) -> None:
    """test_funnel_unordered.py test_basic_unordered_funnel_conversion_times (counts only, with a
    one-day window): 3 people complete one step."""
    people = _people(
        {
            "p1": [(UP, "2021-05-02 00:00:00")],
            "p2": [(VIEW, "2021-05-02 00:00:00"), (UP, "2021-05-02 01:00:00")],
            "p3": [
                (INSIGHT, "2021-05-02 00:00:00"),
                (UP, "2021-05-02 02:00:00"),
                (VIEW, "2021-05-02 04:00:00"),
                (VIEW, "2021-05-03 00:00:00"),
                (INSIGHT, "2021-05-03 03:00:00"),
                (UP, "2021-05-03 06:00:00"),
            ],
        }
    )
    got = run(con, steps(UP, VIEW, INSIGHT), people, window=timedelta(days=1), mode="any",
              semantics="posthog")  # fmt: skip
    assert counts(got) == [3, 2, 1], UNORDERED


def test_unordered_funnel_exclusions_full_window(con: ibis.BaseBackend) -> None:
    """test_funnel_unordered.py test_funnel_exclusions_full_window: person 2 (an exclusion between
    signing up and paying) completes one step only; [3, 2]."""
    people = _people(
        {
            "person1": [("user signed up", "2021-05-01 01:00:00"), ("paid", "2021-05-01 02:00:00")],
            "person2": [
                ("user signed up", "2021-05-01 03:00:00"),
                ("x", "2021-05-01 03:30:00"),
                ("paid", "2021-05-01 04:00:00"),
            ],
            "person3": [("user signed up", "2021-05-01 05:00:00"), ("paid", "2021-05-01 06:00:00")],
        }
    )
    got = run(con, steps("user signed up", "paid"), people, window=FOURTEEN_DAYS, mode="any",
              extra={"x": {"event": "x"}}, exclude=["x"], semantics="posthog")  # fmt: skip
    assert counts(got) == [3, 2], UNORDERED
    assert _reached(got, 2) == ["person1", "person3"]


def test_unordered_exclusion_after_completion(con: ibis.BaseBackend) -> None:
    """test_funnel_unordered.py test_unordered_exclusion_after_completion: every count is 1."""
    people = _people(
        {
            "person1": [
                ("user signed up", "2021-05-01 01:00:00"),
                ("paid", "2021-05-01 02:00:00"),
                ("left", "2021-05-01 03:00:00"),
                ("x", "2021-05-01 04:00:00"),
                ("left", "2021-05-01 05:00:00"),
            ]
        }
    )
    got = run(con, steps("user signed up", "paid", "left"), people, window=FOURTEEN_DAYS,
              mode="any", extra={"x": {"event": "x"}}, exclude=["x:1-3"], semantics="posthog")  # fmt: skip
    assert counts(got) == [1, 1, 1], UNORDERED


def test_unordered_advanced_funnel_multiple_exclusions_between_steps(con: ibis.BaseBackend) -> None:
    """test_funnel_unordered.py test_advanced_funnel_multiple_exclusions_between_steps:
    [5, 2, 1, 1, 1]; an exclusion wipes what was held before it."""
    s = ["user signed up", "$pageview", "insight viewed", "invite teammate", "pageview2"]
    hours = ["01:00", "02:00", "04:00", "05:00", "06:00"]
    plain = list(zip(s, hours, strict=True))

    def day(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return sorted((e, f"2021-05-01 {h}:00") for e, h in rows)

    people = {
        "person1": [(s[0], "01:00"), ("x", "02:00"), (s[1], "03:00"), (s[2], "04:00"),
                    ("y", "04:30"), (s[3], "05:00"), (s[4], "06:00")],
        "person2": [*plain, ("y", "01:30"), ("y", "04:30"), ("x", "05:30")],
        "person3": [*plain, ("x", "01:30"), ("x", "05:30")],
        "person4": plain,
        "person5": [*plain, ("x", "01:30"), ("x", "02:30"), ("y", "04:30"), ("x", "05:30")],
    }  # fmt: skip
    events = _people({p: sorted(day(rows), key=lambda r: r[1]) for p, rows in people.items()})
    got = run(con, steps(*s), events, window=FOURTEEN_DAYS, mode="any",
              extra={"x": {"event": "x"}, "y": {"event": "y"}}, exclude=["x", "y"],
              semantics="posthog")  # fmt: skip
    assert counts(got) == [5, 2, 1, 1, 1], UNORDERED
    assert _reached(got, 2) == ["person1", "person4"]
