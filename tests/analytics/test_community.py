"""Community impact, north star and engagement levels, from events, against hand counts."""

from __future__ import annotations

from datetime import datetime

import ibis
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeykit.analytics.community import north_star
from journeykit.analytics.impact import impact
from journeykit.analytics.levels import NEXT, TOP, engagement_levels, levels_at
from journeykit.analytics.milestones import AnalyticsError
from journeykit.journey import Journey, parse_journey
from journeykit.journey.schema import Levels
from tests.builders import events_for, to_arrow

JOURNEY = """\
id: shop
title: Shop
transformation: {from: "A", to: "B"}
personas:
  - {id: pro, name: Pro, segment: {event: signed_up, properties: {plan: pro}}}
milestones:
  - {id: signed_up, title: Signed up, phase: pre, when: signed_up}
  - {id: joined, title: Joined the community, phase: pre, when: community_joined}
  - {id: posted, title: Posted, phase: post, when: post}
  - {id: hosted, title: Hosted an event, phase: post, when: event_hosted}
  - {id: bought, title: Bought, phase: core, when: order}
community:
  purpose: Peers help
  roles:
    - objective: success
      north_star: {milestone: bought, among: signed_up, within: 30d, target: 0.5}
    - objective: acquisition
      north_star: {metric: per_customer, milestone: posted, among: signed_up, target: 1}
    - objective: success
      north_star: {metric: median_days_to, milestone: bought, among: signed_up, target: 10,
                   direction: down}
  milestones: [joined]
  activity: {posted: 1, hosted: 5}
  levels: {by: threshold, advocates: 6, contributors: 2, inactive_after: 30d}
"""


@pytest.fixture(scope="module")
def journey() -> Journey:
    return parse_journey(JOURNEY)


def _table(events: dict[str, list[tuple[object, ...]]]) -> ibis.Table:
    return ibis.memtable(to_arrow(events_for(events)))


# --- impact, end to end through events ----------------------------------------------------------


def _planted(n: int = 1500, effect: float = 0.15, seed: int = 1) -> tuple[pa.Table, dict[str, int]]:
    """Customers entering over three months; the later the cohort, the more join and the more
    buy (confounding), and joining adds `effect` to the chance of buying after day 14."""
    rng = np.random.default_rng(seed)
    cohort = rng.integers(0, 3, n)
    entry = np.datetime64("2024-01-01T00:00:00", "us") + (
        cohort * 30 + rng.integers(0, 28, n)
    ).astype("timedelta64[D]")
    join = rng.random(n) < np.array([0.2, 0.5, 0.8])[cohort]
    late_join = ~join & (rng.random(n) < 0.3)  # joins after the landmark: not a member
    early_buy = rng.random(n) < 0.05  # buys before the landmark: left out
    buys = ~early_buy & (rng.random(n) < np.array([0.1, 0.25, 0.4])[cohort] + effect * join)
    rows: list[tuple[str, str, np.datetime64]] = []
    for i in range(n):
        c = f"c{i}"
        rows.append((c, "signed_up", entry[i]))
        if join[i]:
            rows.append((c, "community_joined", entry[i] + np.timedelta64(3, "D")))
        if late_join[i]:
            rows.append((c, "community_joined", entry[i] + np.timedelta64(20, "D")))
        if early_buy[i]:
            rows.append((c, "order", entry[i] + np.timedelta64(5, "D")))
        if buys[i]:
            rows.append((c, "order", entry[i] + np.timedelta64(25, "D")))
    rows.append(
        ("zz", "post", np.datetime64("2024-06-30T00:00:00", "us"))
    )  # `now`: everyone observed
    table = pa.table({
        "customer_id": [r[0] for r in rows],
        "event": [r[1] for r in rows],
        "timestamp": pa.array(np.array([r[2] for r in rows], "datetime64[us]"), pa.timestamp("us")),
        "value": pa.nulls(len(rows), pa.float64()),
        "properties": pa.nulls(len(rows), pa.string()),
    })  # fmt: skip
    keep = ~early_buy
    counts = {
        "members": int((join & keep).sum()),
        "member_buyers": int((join & buys).sum()),
        "non_members": int((~join & keep).sum()),
        "non_member_buyers": int((~join & buys).sum()),
        "early": int(early_buy.sum()),
    }
    return table, counts


def test_impact_counts_members_at_the_landmark_and_the_outcome_after_it(journey: Journey) -> None:
    table, want = _planted()
    result = impact(ibis.memtable(table), journey, adjust=("cohort",))
    assert result.members.customers == want["members"]
    assert result.members.reached == want["member_buyers"]
    assert result.non_members.customers == want["non_members"]
    assert result.non_members.reached == want["non_member_buyers"]
    assert result.excluded["outcome_before_landmark"] == want["early"]
    d = result.to_dict()
    assert set(d) >= {"outcome", "members", "non_members", "difference", "ci95", "caveat"}
    assert d["outcome"] == "bought" and d["members"]["rate"] == pytest.approx(
        want["member_buyers"] / want["members"]
    )
    assert "not proof of cause" in d["caveat"]
    # Cohort drives both joining and buying: the raw difference overstates the planted 0.15;
    # adjusting by entry month comes back to it.
    assert result.adjusted is not None and result.strata == 3
    assert abs(result.adjusted.estimate - 0.15) < abs(result.difference.estimate - 0.15)
    assert result.adjusted.low < 0.15 < result.adjusted.high
    assert result.difference.estimate - 0.15 > 0.05


def test_impact_adjusts_by_persona_from_segment_rules(journey: Journey) -> None:
    log = _table({
        "a": [("signed_up", "2024-01-01", {"plan": "pro"}), ("community_joined", "2024-01-02"),
              ("order", "2024-01-20")],
        "b": [("signed_up", "2024-01-01", {"plan": "pro"}), ("order", "2024-01-20")],
        "c": [("signed_up", "2024-01-03"), ("community_joined", "2024-01-04")],
        "d": [("signed_up", "2024-01-03")],
        "z": [("post", "2024-04-01")],
    })  # fmt: skip
    result = impact(log, journey, adjust=("persona",))
    # pro: member bought, non-member bought (RD 0); others: neither bought (RD 0)
    assert (result.members.customers, result.non_members.customers) == (2, 2)
    assert result.difference.estimate == 0 and result.adjusted is not None
    assert result.strata == 2 and result.adjusted.estimate == 0


def test_impact_on_counts_and_on_days_uses_the_bootstrap(journey: Journey) -> None:
    log = _table({
        "a": [("signed_up", "2024-01-01"), ("community_joined", "2024-01-02"),
              ("post", "2024-01-20"), ("post", "2024-01-21"), ("order", "2024-01-17")],
        "b": [("signed_up", "2024-01-01"), ("post", "2024-01-25"), ("order", "2024-01-31")],
        "c": [("signed_up", "2024-01-01"), ("community_joined", "2024-01-05"),
              ("order", "2024-01-21")],
        "z": [("post", "2024-04-01")],
    })  # fmt: skip
    counts = impact(log, journey, role="acquisition", adjust=())
    assert (counts.members.rate, counts.non_members.rate) == (1.0, 1.0)  # posts after day 14
    days = impact(log, journey, role=2, adjust=())
    assert days.members.rate == 18.0 and days.non_members.rate == 30.0  # median(16, 20); 30
    assert days.difference.method == "bootstrap" and days.adjusted is None


def test_impact_errors_are_actionable(journey: Journey) -> None:
    log = _table({"a": [("signed_up", "2024-01-01")]})
    with pytest.raises(AnalyticsError, match="did you mean 'success'"):
        impact(log, journey, role="sucess")
    with pytest.raises(AnalyticsError, match="role 9 does not exist"):
        impact(log, journey, role=8)
    bare = parse_journey(JOURNEY.split("community:")[0])
    with pytest.raises(AnalyticsError, match="no 'community' section"):
        impact(log, bare)


# --- north star ----------------------------------------------------------------------------------


def test_north_star_per_entry_month_against_the_target(journey: Journey) -> None:
    log = _table({
        "a": [("signed_up", "2024-01-05"), ("order", "2024-01-20")],
        "b": [("signed_up", "2024-01-10"), ("order", "2024-02-20")],  # after 30 days
        "c": [("signed_up", "2024-02-01"), ("order", "2024-02-02")],
        "d": [("signed_up", "2024-02-03")],
        "e": [("signed_up", "2024-03-25")],  # window still open at `now`
        "z": [("post", "2024-04-01")],
    })  # fmt: skip
    result = north_star(log, journey)
    got = [(p.period.isoformat(), p.customers, p.value, p.complete, p.on_target)
           for p in result.points]  # fmt: skip
    assert got == [
        ("2024-01-01", 2, 0.5, True, True),
        ("2024-02-01", 2, 0.5, True, True),
        ("2024-03-01", 1, 0.0, False, False),
    ]
    assert result.customers == 4 and result.value == 0.5  # e's window has not ended
    weekly = north_star(log, journey, period="week")
    assert [p.period.isoformat() for p in weekly.points][:2] == ["2024-01-01", "2024-01-08"]
    posts = north_star(log, journey, role="acquisition")
    assert posts.value == 0.0 and posts.to_dict()["series"][0]["target"] == 1


# --- engagement levels: a hand-computed example -------------------------------------------------

MONTH_DAYS = 365.2425 / 12


def love(*parts: tuple[float, float]) -> float:
    """Sum of weight * 0.9 ** (days ago / month)."""
    return sum(w * 0.9 ** (days / MONTH_DAYS) for w, days in parts)


def test_levels_and_movements_equal_a_hand_computed_example(journey: Journey) -> None:
    log = _table({
        "ana": [("event_hosted", "2024-01-10"), ("post", "2024-02-05"), ("post", "2024-02-20")],
        "ben": [("post", "2024-01-15"), ("post", "2024-01-20")],
        "cy": [("post", "2024-02-10")],
        "dee": [("signed_up", "2024-03-15")],  # sets `now`; not a member
    })  # fmt: skip
    # Ends of periods: Feb 1, Mar 1, and now (Mar 15). Thresholds 6 and 2; inactive after 30d.
    ana = [love((5, 22)), love((5, 51), (1, 25), (1, 10)), love((5, 65), (1, 39), (1, 24))]
    assert 2 <= ana[0] < 6 and ana[1] >= 6 and 2 <= ana[2] < 6  # contributor, advocate, contr.
    ben_feb = love((1, 17), (1, 12))
    assert ben_feb < 2  # participant on Feb 1; inactive from Mar 1 (last post 41 days before)
    result = engagement_levels(log, journey)
    assert result.periods == ("2024-01-01", "2024-02-01", "2024-03-01")
    assert result.history == {
        "advocates": (0, 1, 0),
        "contributors": (1, 0, 1),
        "participants": (1, 1, 0),  # ben, then cy (posted Feb 10)
        "inactive": (0, 1, 2),  # ben from Mar 1; cy by Mar 15 (34 days)
    }
    assert result.new == (2, 1, 0)
    moves = {(m.period, m.level): (m.members, m.up, m.held, m.down) for m in result.movements}
    assert moves == {
        ("2024-02-01", "advocates"): (0, 0, 0, 0),
        ("2024-02-01", "contributors"): (1, 1, 0, 0),
        ("2024-02-01", "participants"): (1, 0, 0, 1),
        ("2024-02-01", "inactive"): (0, 0, 0, 0),
        ("2024-03-01", "advocates"): (1, 0, 0, 1),
        ("2024-03-01", "contributors"): (0, 0, 0, 0),
        ("2024-03-01", "participants"): (1, 0, 0, 1),
        ("2024-03-01", "inactive"): (1, 0, 1, 0),
    }
    assert [(m.customer_id, m.previous_level, m.level) for m in result.drifting_away] == [
        ("ana", "advocates", "contributors"),
        ("cy", "participants", "inactive"),
    ]
    assert result.drifting_away[0].love == pytest.approx(ana[2])
    assert result.drifting_away[0].previous_love == pytest.approx(ana[1])
    assert result.new_and_promising == ()
    assert result.counts == {"advocates": 0, "contributors": 1, "participants": 0, "inactive": 2}


def test_percentile_levels_top_ten_next_twenty_five_ties_share() -> None:
    t = 10**15
    rule = Levels()
    love_ = np.array([10.0, 9, 8, 7, 6, 5, 4, 3, 2, 1, 50])
    last = np.full(11, t - 1, dtype=np.int64)
    last[-1] = t - 90 * 86_400 * 10**6  # inactive: no activity for 90 days, whatever its love
    got = levels_at(love_, last, t, rule)
    # 10 active: the share with more love is 0, .1, .2, .3 (< .35), .4, ...
    assert got.tolist() == [1, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4]
    # 11 active: 1/11 < .10, so the second is an advocate too (fewer than 10% above them)
    eleven = levels_at(np.r_[love_[:10], 0.5], np.full(11, t - 1, dtype=np.int64), t, rule)
    assert eleven.tolist()[:5] == [1, 1, 2, 2, 3]
    tied = levels_at(np.array([5.0, 5.0, 1.0]), np.full(3, t - 1, dtype=np.int64), t, rule)
    assert tied.tolist() == [1, 1, 3]


@given(
    love=st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0, 2.5, 7.0, 1e-9]), max_size=60),
    inactive=st.lists(st.booleans(), max_size=60),
)
def test_percentile_levels_equal_the_share_above_each_member(
    love: list[float], inactive: list[bool]
) -> None:
    """The levels by one cut in the sorted loves equal counting, per member, the active members
    with strictly more love (the definition), with many ties."""
    t = 10**15
    n = len(love)
    last = np.full(n, t - 1, dtype=np.int64)
    off = np.array((inactive + [False] * n)[:n], dtype=bool)
    last[off] = t - 90 * 86_400 * 10**6
    got = levels_at(np.array(love, dtype=np.float64), last, t, Levels())
    pool = [v for v, o in zip(love, off, strict=True) if not o]
    want = []
    for v, o in zip(love, off, strict=True):
        above = sum(p > v for p in pool) / max(len(pool), 1)
        want.append(4 if o else 1 if above < TOP else 2 if above < NEXT else 3)
    assert got.tolist() == want


def test_new_and_promising_are_new_this_period_with_at_least_median_love(journey: Journey) -> None:
    log = _table({
        "old": [("post", "2024-01-10"), ("post", "2024-02-10"), ("post", "2024-03-02")],
        "new1": [("event_hosted", "2024-03-05")],
        "new2": [("post", "2024-03-06")],
        "z": [("signed_up", "2024-03-10")],
    })  # fmt: skip
    result = engagement_levels(log, journey, now=datetime(2024, 3, 10))
    assert [m.customer_id for m in result.new_and_promising] == ["new1"]
    assert result.new_and_promising[0].level == "contributors"  # 5 * 0.9**(5/30.4) >= 2
    # old: 0.9**(60/M) + 0.9**(29/M) + 0.9**(8/M) = 2.68, a contributor and the median love
    assert result.to_dict()["levels"] == {
        "advocates": 0,
        "contributors": 2,
        "participants": 1,
        "inactive": 0,
    }
