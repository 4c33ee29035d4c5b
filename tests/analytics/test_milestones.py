"""The milestone log: which events reach which milestone (DESIGN "milestone log"; docs/metrics.md).

Hand cases for the `when` rules, then the log's own contract.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import ibis
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.milestones import fetch_milestones
from journeykit.journey import EventRule, Journey
from journeykit.journey.schema import Persona
from tests import oracle
from tests.analytics.cases import dt
from tests.analytics.strategies import events, make_journey
from tests.builders import Event, events_for, to_arrow


def ev(props: dict | None = None, value: float | None = None, name: str = "e") -> Event:
    return Event("c", name, dt("2024-01-01"), value, props or {})


def rule(doc: object) -> EventRule:
    return EventRule.model_validate(doc)


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


# --------------------------------------------------------------------------- fetched log

OVERLAPPING = make_journey(
    {
        "signed_up": "signup",
        "pro_signup": {"event": "signup", "properties": {"plan": "pro"}},  # overlaps signed_up
        "paid": {"event": "buy", "value": {"exists": True}},
        "big_buy": {"event": "buy", "value": {"gte": 20}},  # overlaps paid
        "anything": {"any": [{"event": "visit"}, {"event": "buy"}]},  # overlaps both buys
    }
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), events("x", ["signup", "buy", "visit"])),
        max_size=25,
    )
)
def test_fetched_log_with_overlapping_rules_equals_the_oracle(
    drawn: list[tuple[str, Event]],
) -> None:
    """Each event carries every tag it matches, once, and the tags of one event share a key
    that no other event has (so one event serves one step); identical rows are two events."""
    log = [Event(c, e.event, e.timestamp, e.value, e.properties) for c, e in drawn]
    frame = fetch_milestones(ibis.memtable(to_arrow(log)), OVERLAPPING)
    ids = [m.id for m in OVERLAPPING.milestones]
    got = [
        (
            str(frame.customer_ids[frame.cust[i]]),
            ids[frame.milestone[i]],
            frame.ts[i],
            None if np.isnan(frame.value[i]) else float(frame.value[i]),
        )
        for i in range(frame.milestone.size)
    ]
    want = [
        (c, m, int(np.datetime64(t, "us").astype(np.int64)), v)
        for c, m, t, v in oracle.milestone_rows(log, OVERLAPPING)
    ]

    def order(r: tuple[str, str, int, float | None]) -> tuple[str, str, int, bool, float]:
        return (r[0], r[1], r[2], r[3] is not None, r[3] or 0.0)

    assert sorted(got, key=order) == sorted(want, key=order)
    tagged = [e for e in log if any(oracle.matches(m.when, e) for m in OVERLAPPING.milestones)]
    assert np.unique(frame.event_key).size == len(tagged)
    # rows are sorted by customer, then time, with an event's tags next to each other
    order = np.lexsort((frame.ts, frame.cust))
    assert (order == np.arange(order.size)).all()
    for key in np.unique(frame.event_key):
        rows = np.flatnonzero(frame.event_key == key)
        assert (np.diff(rows) == 1).all()
        assert np.unique(frame.ts[rows]).size == 1 and np.unique(frame.cust[rows]).size == 1


def _with_personas(segments: dict[str, object]) -> Journey:
    personas = tuple(
        Persona(id=pid, name=pid, segment=EventRule.model_validate(rule))
        for pid, rule in segments.items()
    )
    return OVERLAPPING.model_copy(update={"personas": (*personas, Persona(id="plain", name="p"))})


WITH_NAMES = _with_personas(
    {
        "pro": {"event": "signup", "properties": {"plan": "pro"}},  # on a milestone's events
        "noisy": {"event": "noise", "value": {"gte": 5}},  # on events no milestone reaches
        "any_pro": {"any": [{"event": "buy", "properties": {"plan": "pro"}}, {"event": "noise"}]},
    }
)
WITHOUT_NAMES = _with_personas({"free": {"properties": {"plan": "free"}}, "pro": {"event": "buy"}})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), events("x", ["signup", "buy", "visit"])),
        max_size=25,
    ),
    st.sampled_from([WITH_NAMES, WITHOUT_NAMES]),
)
def test_each_customers_persona_comes_with_the_log(
    drawn: list[tuple[str, Event]], journey: Journey
) -> None:
    """The persona of each customer is the first (file order) whose rule one of their events
    matches, as ``analytics.segments`` says; the rows are the log's without personas; a
    customer with only a persona's events is in the log without rows."""
    from journeykit.analytics.segments import personas_of

    log = [Event(c, e.event, e.timestamp, e.value, e.properties) for c, e in drawn]
    table = ibis.memtable(to_arrow(log))
    plain = fetch_milestones(table, journey)
    frame = fetch_milestones(table, journey, personas=True)
    want = {
        c: min(
            (i for i, p in enumerate(journey.personas)
             for e in log if e.customer_id == c and p.segment and oracle.matches(p.segment, e)),
            default=-1,
        )
        for c in {e.customer_id for e in log}
    }  # fmt: skip
    in_log = {c for c, i in want.items() if i >= 0} | set(plain.customer_ids.tolist())
    assert sorted(frame.customer_ids.tolist()) == frame.customer_ids.tolist() == sorted(in_log)
    assert frame.persona is not None
    assert dict(zip(frame.customer_ids.tolist(), frame.persona.tolist(), strict=True)) == {
        c: want[c] for c in in_log
    }
    assert personas_of(table, journey) == {c: i for c, i in want.items() if i >= 0}
    rows = [(frame.customer_ids[c], t, m) for c, m, t in
            zip(frame.cust, frame.milestone, frame.ts, strict=True)]  # fmt: skip
    # The same rows in the same (customer, time) order; rows at one time come in either order.
    assert [r[:2] for r in rows] == sorted(r[:2] for r in rows)
    assert sorted(rows) == sorted((plain.customer_ids[c], t, m) for c, m, t in
                                  zip(plain.cust, plain.milestone, plain.ts, strict=True))  # fmt: skip
    assert np.array_equal(
        np.diff(frame.offsets), np.bincount(frame.cust, minlength=frame.customers)
    )


def test_a_log_cut_from_another_does_not_reuse_its_first_reaches() -> None:
    from journeykit.analytics.milestones import since
    from journeykit.analytics.position import positions

    j = make_journey({"a": "a", "b": "b"}, {"main": ["a", "b"]})
    log = events_for({"c": [("a", "2024-01-01"), ("b", "2024-01-02"), ("a", "2024-01-04")]})
    frame = fetch_milestones(ibis.memtable(to_arrow(log)), j)
    assert positions(frame, j).to_pandas()["milestone"].tolist() == ["b"]
    later = since(frame, dt("2024-01-03"))  # only the second "a" is left
    assert positions(later, j).to_pandas()["milestone"].tolist() == ["a"]


@pytest.mark.parametrize("names", [["a"], ["a", "b"], ["b", "c", "it's", "ü"], ["zz", "yy"]])
def test_the_name_prefilter_keeps_the_rows_an_in_list_keeps(names: list[str]) -> None:
    """DuckDB's prefilter is `list_contains`, not `IN`: the same rows, NULL and quoted names too."""
    from journeykit.analytics.milestones import _name_in

    con = ibis.duckdb.connect()
    t = con.create_table(
        "ev",
        pa.table({"event": ["a", "b", None, "c", "it's", "ü", "a", "A", ""], "i": range(9)}),
    )
    got = sorted(t.filter(_name_in(t, names)).i.to_pyarrow().to_pylist())
    want = sorted(t.filter(t.event.isin(names)).i.to_pyarrow().to_pylist())
    assert got == want
    if len(names) > 1:
        assert "IN (" not in str(ibis.to_sql(t.filter(_name_in(t, names))))
