"""Opportunities (docs/metrics.md "Opportunities"): who is affected where, value at stake, the
ranking for everyone and per persona, the pain behind a leak and what is being done.

One small log, every customer's status worked out by hand below, so each number is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pytest
from scipy import stats

from journeykit.analytics import fetch_milestones
from journeykit.analytics.opportunities import PlayVerdict, opportunities, proof_text
from journeykit.analytics.segments import persona_ids
from journeykit.analytics.stake import CustomerValues, value_at_stake, welch_interval
from journeykit.journey import parse_journey
from tests.analytics.cases import events_table
from tests.builders import events_for

JOURNEY = parse_journey("""
id: t
title: T
transformation: {from: A, to: B}
lapsed_after: 30d
personas:
  - {id: p1, name: P1, segment: {event: signup, properties: {kind: one}}}
  - {id: p2, name: P2, segment: {event: signup, properties: {kind: two}}}
milestones:
  - {id: a, title: Signed up, phase: pre, stage: acquire, when: signup}
  - {id: b, title: First win, phase: pre, stage: nurture, moment: celebrate, when: step_b, expected_within: 2d}
  - {id: c, title: Bought, phase: core, stage: convert, when: buy, expected_within: 5d}
  - {id: d, title: Again, phase: post, stage: repeat, when: again, expected_within: 10d}
paths: [{id: main, steps: [a, b, c, d]}]
touchpoints: [{from: a, to: b, channel: email, action: nudge to b}]
plays:
  - {id: nudge_b, title: Nudge to b, who: {status: stuck, milestone: a}, channel: email, message: hi}
  - {id: winback, title: Win back, who: {status: lapsed}, goal: {milestone: c}, channel: email, message: hi}
""")

ONE, TWO = {"kind": "one"}, {"kind": "two"}
# Now is the latest event: 2024-03-31. Lapsed: no event for 30 days.
LOG = events_for({
    "s1": [("signup", "2024-03-01", ONE), ("page", "2024-03-30")],  # at a, stuck
    "s2": [("signup", "2024-03-02", TWO), ("page", "2024-03-29")],  # at a, stuck
    "l1": [("signup", "2024-01-10", ONE)],  # at a, lapsed
    "l2": [("signup", "2024-01-12", ONE)],  # at a, lapsed
    "b1": [("signup", "2024-03-01", ONE), ("step_b", "2024-03-02"),
           ("buy", "2024-03-04", {}, 50)],  # at c, stuck (27 days > 10)
    "b2": [("signup", "2024-03-03", TWO), ("step_b", "2024-03-04"), ("buy", "2024-03-05", {}, 80),
           ("again", "2024-03-20")],  # completed
    "b3": [("signup", "2024-03-20", ONE), ("step_b", "2024-03-21")],  # at b, stuck (10 > 2)
    "o1": [("signup", "2024-03-30", TWO), ("page", "2024-03-31")],  # at a, on track
})  # fmt: skip
VALUES = CustomerValues(np.array(["b1", "b2"]), np.array([40.0, 100.0]), "hand-made")


@dataclass(frozen=True)
class Q:
    text: str
    stage: str | None


@dataclass(frozen=True)
class T:
    id: str
    label: str
    moment: str
    stages: tuple[tuple[str, int], ...]
    quotes: tuple[Q, ...]


THEMES = (
    T("price", "price", "breakdown", (("convert", 4),), (Q("too dear", "convert"),)),
    T("setup", "setup", "breakdown", (("nurture", 2), ("b", 1)), (Q("never got b", "b"),)),
    T("joy", "joy", "celebrate", (("nurture", 9),), (Q("I love b", "nurture"),)),
    T("time", "time", "neutral", (("acquire", 5),), (Q("busy", "acquire"),)),
)


@pytest.fixture(scope="module")
def result(con: ibis.BaseBackend):  # type: ignore[no-untyped-def]
    events = events_table(con, LOG)
    frame = fetch_milestones(events, JOURNEY)
    proofs = {"nudge_b": PlayVerdict("works", 0.05, 0.01, 0.09)}
    return opportunities(
        frame, JOURNEY, values=VALUES, personas=persona_ids(events, JOURNEY), themes=THEMES,
        proofs=proofs,
    )  # fmt: skip


def _by_id(ops):  # type: ignore[no-untyped-def]
    return {o.id: o for o in ops}


def test_who_is_affected_at_each_step(result) -> None:  # type: ignore[no-untyped-def]
    ops = _by_id(result.opportunities)
    assert set(ops) == {"step:main:a", "step:main:b", "step:main:c"}
    a = ops["step:main:a"]
    assert (a.affected, a.stuck, a.lapsed) == (4, 2, 2)  # s1, s2 stuck; l1, l2 lapsed; o1 not
    assert (ops["step:main:b"].affected, ops["step:main:c"].affected) == (1, 1)
    assert (a.milestone, a.next) == ("a", "b")


def test_value_at_stake_is_affected_times_the_clv_difference(result) -> None:  # type: ignore[no-untyped-def]
    ops = _by_id(result.opportunities)
    # a: got past = b1, b2, b3 (40, 100, 0); affected s1, s2, l1, l2 (0 each).
    v = ops["step:main:a"].value
    assert v.got_past == 3 and v.difference == pytest.approx(140 / 3)
    assert v.total == pytest.approx(4 * 140 / 3)
    # c: got past = b2 (100); affected = b1 (40), so 1 x 60.
    assert ops["step:main:c"].value.total == pytest.approx(60.0)
    assert ops["step:main:b"].value.total == pytest.approx(70.0)  # b1, b2 past; b3 at 0
    assert [o.id for o in result.opportunities] == ["step:main:a", "step:main:b", "step:main:c"]


def test_each_persona_has_its_own_ranking(result) -> None:  # type: ignore[no-untyped-def]
    p1 = result.ranked("p1")
    assert [o.id for o in p1] == ["step:main:a", "step:main:b", "step:main:c"]
    assert p1[0].affected == 3 and p1[0].value.total == pytest.approx(3 * 20.0)  # b1, b3 past
    assert p1[1].value.total == pytest.approx(40.0)
    assert p1[2].value is None  # no p1 customer got past c: nothing to compare with, ranked last
    p2 = result.ranked("p2")
    assert [(o.id, o.affected) for o in p2] == [("step:main:a", 1)]
    assert p2[0].value.total == pytest.approx(100.0)


def test_the_pain_behind_a_leak_is_the_themes_raised_there(result) -> None:  # type: ignore[no-untyped-def]
    a = _by_id(result.opportunities)["step:main:a"]
    # a -> b: milestones a, b and stages acquire, nurture. Breakdowns first; joy is no pain.
    assert [(p.theme, p.raised) for p in a.pains] == [("setup", 3), ("time", 5)]
    assert a.pains[0].quotes == ("never got b",)
    c = _by_id(result.opportunities)["step:main:c"]
    assert [p.theme for p in c.pains] == ["price"]


def test_what_is_being_done_with_the_proof_prove_passes(result) -> None:  # type: ignore[no-untyped-def]
    ops = _by_id(result.opportunities)
    a = ops["step:main:a"]
    assert [t.action for t in a.touchpoints] == ["nudge to b"]
    assert [(e.play, proof_text(e.proof)) for e in a.plays] == [
        ("nudge_b", "works: +5.0 pts (+1.0 to +9.0)"),
        ("winback", "no proof yet"),
    ]
    assert ops["step:main:b"].touchpoints == ()
    assert [e.play for e in ops["step:main:b"].plays] == ["winback"]  # lapsed, before its goal
    assert ops["step:main:c"].doing == "nothing designed"  # c is winback's goal
    data = a.to_dict()
    assert data["plays"][0]["proof"] == {"verdict": "works", "effect": 0.05, "low": 0.01,
                                         "high": 0.09}  # fmt: skip


def test_without_values_leaks_rank_by_customers(con: ibis.BaseBackend) -> None:
    frame = fetch_milestones(events_table(con, LOG), JOURNEY)
    got = opportunities(frame, JOURNEY)
    assert [o.affected for o in got.opportunities] == [4, 1, 1]
    assert all(o.value is None for o in got.opportunities) and got.value_source is None
    assert got.notes


def test_welch_interval_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.gamma(2, 20, 400), np.where(rng.random(900) < 0.2, rng.gamma(2, 20, 900), 0)
    ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    low, high = welch_interval(a, b)
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    v = value_at_stake(a, b)
    assert v is not None and v.total_low == pytest.approx(b.size * ci.low)
    assert value_at_stake(a[:0], b) is None
    assert welch_interval(a[:1], b) == (None, None)
