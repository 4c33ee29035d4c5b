"""The fast analytics agree with the brute-force oracle on random small logs, in every mode."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import ibis
import numpy as np
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from journeykit.analytics import cohorts, event_paths, funnel, paths, positions
from journeykit.journey import Journey
from tests import oracle
from tests.analytics.strategies import scenarios
from tests.builders import Event, to_arrow

Scenario = tuple[Journey, list[Event], timedelta | None, datetime | None]


@pytest.fixture(scope="module")
def con() -> Iterator[ibis.BaseBackend]:
    backend = ibis.duckdb.connect()
    yield backend
    backend.disconnect()


def _table(con: ibis.BaseBackend, events: list[Event]) -> ibis.Table:
    return con.create_table("events", to_arrow(events), overwrite=True)


def _us(t: datetime) -> int:
    return int(np.datetime64(t, "us").astype(np.int64))


def _has_data(events: list[Event], now: datetime | None) -> bool:
    return bool(events) and (now is None or any(e.timestamp <= now for e in events))


@pytest.mark.parametrize("mode", ["ordered", "strict", "any"])
@settings(settings.get_profile("analytics"), phases=[Phase.explicit, Phase.generate])
@given(case=scenarios(), data=st.data())
def test_funnel_agrees_with_oracle(
    con: ibis.BaseBackend, mode: str, case: Scenario, data: st.DataObject
) -> None:
    journey, events, window, now = case
    if not _has_data(events, now):
        return
    # Exclusions: a milestone off the main path (any-order funnels refuse them).
    off = [m.id for m in journey.milestones if m.id not in journey.path().milestone_ids]
    choices = [[], *([m] for m in off)] if mode != "any" else [[]]
    exclude = data.draw(st.sampled_from(choices), label="exclude")
    expected = oracle.funnel(events, journey, mode=mode, window=window, now=now, exclude=exclude)  # type: ignore[arg-type]
    got = funnel(_table(con, events), journey, mode=mode, window=window, now=now, exclude=exclude)  # type: ignore[arg-type]
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
        assert list(times[: level + 1]) == [_us(t) for t in expected["times"][str(c)]], c


@settings(settings.get_profile("analytics"))
@given(
    case=scenarios(),
    lapsed=st.sampled_from([timedelta(days=90), timedelta(days=1), timedelta(days=3)]),
)
def test_positions_agree_with_oracle(
    con: ibis.BaseBackend, case: Scenario, lapsed: timedelta
) -> None:
    journey, events, _, now = case
    if not _has_data(events, now):
        return
    expected = oracle.positions(events, journey, now=now, lapsed_after=lapsed)
    got = positions(_table(con, events), journey, now=now, lapsed_after=lapsed)
    assert {
        c.customer_id: {
            "milestone": c.milestone,
            "reached_at": c.reached_at,
            "status": c.status,
            "strays": sorted((s.type, s.milestones) for s in c.strays),
        }
        for c in got.customers
    } == {
        c: {**p, "reached_at": _us(p["reached_at"]), "strays": sorted(p["strays"])}
        for c, p in expected.items()
    }


@settings(settings.get_profile("analytics"))
@given(case=scenarios())
def test_paths_and_cohorts_agree_with_oracle(con: ibis.BaseBackend, case: Scenario) -> None:
    journey, events, _, now = case
    if not _has_data(events, now):
        return
    table = _table(con, events)
    expected = oracle.paths(events, journey, now=now)
    got = paths(table, journey, top=None, now=now)
    assert [(v.steps, v.customers) for v in got.variants] == expected["variants"]
    assert got.customers == expected["total"]
    assert {
        (t.from_, t.to): (t.count, pytest.approx(t.median_seconds)) for t in got.transitions
    } == expected["transitions"]
    want = oracle.cohorts(events, journey, days=3, now=now)
    have = cohorts(table, journey, days=3, now=now)
    assert {c.week: {"customers": c.customers, "reached": c.reached} for c in have.cohorts} == want


@settings(settings.get_profile("analytics"))
@given(case=scenarios(), data=st.data())
def test_raw_event_paths_agree_with_oracle(
    con: ibis.BaseBackend, case: Scenario, data: st.DataObject
) -> None:
    _, events, _, now = case
    if not _has_data(events, now):
        return
    names = sorted({e.event for e in events})
    only = data.draw(st.sampled_from([(), tuple(names[:2])]), label="only")
    skip = data.draw(st.sampled_from([(), ("noise",)]), label="skip")
    expected = oracle.event_paths(events, only=only, skip=skip, now=now)
    got = event_paths(_table(con, events), only=only, skip=skip, top=None, now=now)
    assert [(v.steps, v.customers) for v in got.variants] == expected["variants"]
    assert got.customers == expected["total"]
    assert {
        (t.from_, t.to): (t.count, pytest.approx(t.median_seconds)) for t in got.transitions
    } == expected["transitions"]
