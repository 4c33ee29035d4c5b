"""A play's audience is the status rule's customers, customer for customer (DESIGN "Play
audience"), checked against the brute-force oracle on random logs and on simulated data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.act import audience
from journeykit.events.simulate import SimulationOptions, simulate
from journeykit.journey import Journey, parse_journey
from journeykit.journey.durations import parse_duration
from journeykit.journey.plays import Play
from journeykit.journey.templates import template_text
from tests import oracle
from tests.analytics.strategies import scenarios
from tests.builders import Event, events_for, to_arrow


def with_plays(journey: Journey, plays: list[dict[str, Any]], lapse: str | None = None) -> Journey:
    update: dict[str, Any] = {"plays": tuple(Play.model_validate(p) for p in plays)}
    if lapse is not None:
        update["lapsed_after"] = parse_duration(lapse)
    return journey.model_copy(update=update)


def _table(events: list[Event]) -> ibis.Table:
    return ibis.duckdb.connect().create_table("events", to_arrow(events), overwrite=True)


def _plays_for(journey: Journey, path: str, kinds: list[tuple[str, str | None, Any]]) -> list:
    steps = journey.path(path).milestone_ids[:-1]
    plays = []
    for i, (status, milestone, extra) in enumerate(kinds):
        at = steps[min(int(milestone), len(steps) - 1)] if milestone is not None else None
        who: dict[str, Any] = {"status": status, "path": path}
        if at is not None:
            who["milestone"] = at
        who.update(extra)
        plays.append({"id": f"p{i}", "title": f"play {i}", "who": who, "channel": "email"})
    return plays


PLAY_KINDS = st.lists(
    st.one_of(
        st.tuples(st.just("stuck"), st.sampled_from(["0", "1", "2"]),
                  st.sampled_from([{}, {"after": "1h"}, {"after": "12h"}, {"after": "2d"}])),
        st.tuples(st.just("on_track"), st.sampled_from(["0", "1", "2"]), st.just({})),
        st.tuples(st.just("lapsed"), st.sampled_from([None, "0", "1"]), st.just({})),
        st.tuples(st.just("strayed"), st.sampled_from([None, "0", "1"]),
                  st.sampled_from([{}, {"stray": "skipped"}, {"stray": "out_of_order"},
                                   {"stray": "backwards"}, {"stray": "off_path"}])),
    ),
    min_size=1, max_size=4,
)  # fmt: skip


@settings(settings.get_profile("analytics"))
@given(case=scenarios(), kinds=PLAY_KINDS, lapse=st.sampled_from(["1d", "3d", "30d"]))
def test_audience_agrees_with_oracle_on_random_logs(
    case: tuple[Journey, list[Event], Any, datetime | None], kinds: list, lapse: str
) -> None:
    journey, events, _, now = case
    if not events or (now is not None and not any(e.timestamp <= now for e in events)):
        return
    path = journey.paths[-1].id if journey.paths else "main"
    if len(journey.path(path).steps) < 2:
        return
    designed = with_plays(journey, _plays_for(journey, path, kinds), lapse=lapse)
    table = _table(events)
    for play in designed.plays:
        got = audience(table, designed, play, now=now)
        assert set(got.customer_ids) == oracle.play_audience(events, designed, play, now=now)


SAAS = parse_journey(template_text("saas-trial"))


def _simulated(customers: int = 300) -> list[Event]:
    table = simulate(SAAS, SimulationOptions(customers, seed=11)).to_pylist()
    import json

    return [
        Event(r["customer_id"], r["event"], r["timestamp"], r["value"], json.loads(r["properties"]))
        for r in table
    ]


VARIANTS = [
    {"status": "stuck", "path": "team", "milestone": "signed_up"},
    {"status": "stuck", "path": "team", "milestone": "first_board", "after": "3d"},
    {"status": "stuck", "path": "team", "milestone": "signed_up", "persona": "solo_maker"},
    {"status": "stuck", "path": "webinar_first", "milestone": "signed_up",
     "when": {"event": "page_view"}},
    {"status": "lapsed", "path": "team", "persona": "team_lead"},
    {"status": "strayed", "path": "team", "stray": "off_path"},
    {"status": "on_track", "path": "team", "milestone": "subscribed",
     "when": {"event": "login"}},
]  # fmt: skip


@pytest.mark.parametrize("now", [None, datetime(2024, 2, 20)])
def test_audience_agrees_with_oracle_on_simulated_data(now: datetime | None) -> None:
    events = _simulated()
    plays = [p.model_dump(by_alias=True, exclude_none=True) for p in SAAS.plays]
    plays += [
        {"id": f"v{i}", "title": "variant", "who": who, "channel": "email"}
        for i, who in enumerate(VARIANTS)
    ]
    journey = with_plays(SAAS, plays)
    table = _table(events)
    sizes = []
    for play in journey.plays:
        got = audience(table, journey, play, now=now)
        expected = oracle.play_audience(events, journey, play, now=now)
        assert set(got.customer_ids) == expected, play.id
        assert got.customer_ids == sorted(expected)  # by customer id, the same every run
        sizes.append(len(expected))
    assert sum(1 for n in sizes if n) >= len(sizes) - 2  # the cases are not all empty


def test_stuck_play_waits_the_extra_delay_past_the_threshold() -> None:
    journey = with_plays(
        parse_journey(
            "id: j\ntitle: J\ntransformation: {from: a, to: b}\nmilestones:\n"
            "  - {id: a, title: A, phase: pre, when: a}\n"
            "  - {id: b, title: B, phase: core, when: b, expected_within: 2d}\n"
        ),
        [{"id": "nudge", "title": "Nudge", "who": {"status": "stuck", "milestone": "a",
          "after": "1d"}, "channel": "email"}],
    )  # fmt: skip
    log = events_for(
        {
            "ana": [("a", "2024-01-01")],  # 9 days at a: stuck, past 2d + 1d
            "ben": [("a", "2024-01-07T12:00")],  # 2.5 days: stuck, not yet past 3 days
            "cy": [("a", "2024-01-01"), ("b", "2024-01-02")],  # completed
            "dee": [("a", "2024-01-10")],
        }
    )
    got = audience(_table(log), journey, journey.plays[0])
    assert got.customer_ids == ["ana"]
    assert got.goals == ("b",) and got.windows[0].days == 2
