"""Breakdown attribution against the brute-force oracle (docs/metrics.md "Personas and
breakdowns"): the groups come from the oracle's chosen attempts and the log, and each group's
funnel is the oracle's funnel of its customers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ibis
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel
from journeykit.analytics.correlation import funnel_correlation
from tests import oracle
from tests.analytics.cases import Scenario, events_table, has_data
from tests.analytics.strategies import scenarios
from tests.builders import to_arrow


def _counts_among(expected: dict[str, Any], members: list[str], k_steps: int) -> list[int]:
    furthest = expected["furthest"]
    return [sum(furthest.get(c, 0) >= j for c in members) for j in range(1, k_steps + 1)]


@settings(settings.get_profile("analytics"))
@given(case=scenarios(), n=st.integers(1, 3), mode=st.sampled_from(["ordered", "strict"]))
def test_step_attribution_agrees_with_oracle(
    con: ibis.BaseBackend, case: Scenario, n: int, mode: str
) -> None:
    journey, events, window, now = case
    k_steps = len(journey.path().steps)
    if not has_data(events, now) or n > k_steps:
        return
    expected = oracle.funnel(events, journey, window=window, now=now, mode=mode)  # type: ignore[arg-type]
    rule = journey.milestone(journey.path().steps[n - 1].milestone).when
    assert rule is not None
    groups: dict[str, list[str]] = {}
    for c, times in expected["times"].items():
        served = {
            "(none)" if e.properties.get("plan") is None else str(e.properties["plan"])
            for e in events
            if len(times) >= n
            and e.customer_id == c
            and e.timestamp == times[n - 1]
            and oracle.matches(rule, e)
        } or {"(none)"}
        assume(len(served) == 1)  # several events served the step at one time: a tie
        groups.setdefault(served.pop(), []).append(c)
    got = funnel(
        events_table(con, events), journey, window=window, now=now, mode=mode, by=f"step:{n}:plan"
    )  # type: ignore[arg-type]
    assert got.breakdown is not None
    assert {g: [s.customers for s in steps] for g, steps in got.breakdown.items()} == {
        g: _counts_among(expected, members, k_steps) for g, members in sorted(groups.items())
    }


@settings(settings.get_profile("analytics"))
@given(case=scenarios())
def test_all_events_attribution_agrees_with_oracle(con: ibis.BaseBackend, case: Scenario) -> None:
    journey, events, window, now = case
    if not has_data(events, now):
        return
    k_steps = len(journey.path().steps)
    expected = oracle.funnel(events, journey, window=window, now=now)
    kept = [e for e in events if now is None or e.timestamp <= now]
    groups: dict[str, set[str]] = {}
    for c in {e.customer_id for e in kept}:
        values = {
            str(e.properties["plan"]) for e in kept if e.customer_id == c and "plan" in e.properties
        }
        for v in values or {"(none)"}:
            groups.setdefault(v, set()).add(c)
    got = funnel(events_table(con, events), journey, window=window, now=now, by="all:plan")
    assert got.breakdown is not None
    assert {g: [s.customers for s in steps] for g, steps in got.breakdown.items()} == {
        g: _counts_among(expected, sorted(m), k_steps) for g, m in sorted(groups.items())
    }


@settings(settings.get_profile("analytics"))
@given(case=scenarios(), week=st.integers(0, 2))
def test_where_and_cohort_agree_with_oracle(
    con: ibis.BaseBackend, case: Scenario, week: int
) -> None:
    journey, events, window, now = case
    if not has_data(events, now):
        return
    k_steps = len(journey.path().steps)
    expected = oracle.funnel(events, journey, window=window, now=now)
    kept = [e for e in events if now is None or e.timestamp <= now]
    pro = {e.customer_id for e in kept if e.properties.get("plan") == "pro"}
    first = journey.path().steps[0].milestone
    tags = oracle._tagged_by_customer(events, journey, now)
    entry = {
        c: min(g.time for g in t if first in g.milestones)
        for c, t in tags.items()
        if any(first in g.milestones for g in t)
    }
    # the generated logs start on Monday 2024-01-01: ISO week 1 + week
    in_week = {c for c, t in entry.items() if t.isocalendar()[:2] == (2024, 1 + week)}
    table = events_table(con, events)
    if pro:
        got = funnel(table, journey, window=window, now=now, where=["all:plan=pro"])
        assert got.counts == _counts_among(expected, sorted(pro), k_steps)
    got = funnel(table, journey, window=window, now=now, cohort=f"2024-W{1 + week:02d}")
    assert got.counts == _counts_among(expected, sorted(in_week), k_steps)


@settings(settings.get_profile("analytics"))
@given(case=scenarios())
def test_aggregate_by_agrees_with_oracle(con: ibis.BaseBackend, case: Scenario) -> None:
    journey, events, window, now = case
    if not has_data(events, now):
        return
    # the unit: the plan property (text), so customers merge into "pro", "free" and "1"
    units = [
        replace(e, customer_id=str(e.properties["plan"])) for e in events if "plan" in e.properties
    ]
    as_of = now or max(e.timestamp for e in events)
    got = funnel(
        events_table(con, events), journey, window=window, now=now, aggregate_by="property:plan"
    )
    assert got.without_unit == len(events) - len(units)
    assert got.to_dict()["aggregate_by"] == "property:plan"
    expected = oracle.funnel(units, journey, window=window, now=as_of) if units else None
    if expected is None or not has_data(units, as_of):
        assert got.counts[0] == 0
        return
    assert [(s.customers, s.dropped, s.in_progress) for s in got.steps] == [
        (s["customers"], s["dropped"], s["in_progress"]) for s in expected["steps"]
    ]
    furthest = {str(c): int(k) + 1 for c, k in zip(got.customer_ids, got.furthest, strict=True)}
    assert furthest == expected["furthest"]


@pytest.mark.spark
@settings(settings.get_profile("analytics"), max_examples=3)
@given(case=scenarios())
def test_spark_gives_duckdbs_answers(spark: Any, con: ibis.BaseBackend, case: Scenario) -> None:
    """The engine-side parts (a step's event by time, all values, units, attempt ranges) on
    Spark equal DuckDB's, which the tests above check against the oracle."""
    journey, events, window, now = case
    assume(has_data(events, now) and any("plan" in e.properties for e in events))
    on_spark, on_duck = spark.upload(to_arrow(events)), events_table(con, events)
    for kw in ({"by": "step:1:plan"}, {"by": "all:plan"}, {"aggregate_by": "property:plan"}):
        a = funnel(on_spark, journey, window=window, now=now, **kw)  # type: ignore[arg-type]
        b = funnel(on_duck, journey, window=window, now=now, **kw)  # type: ignore[arg-type]
        assert a.to_dict() == b.to_dict(), kw
    result = funnel(on_duck, journey, window=window, now=now)
    assert funnel_correlation(result, on_spark, journey, prop="plan").to_dict() == (
        funnel_correlation(result, on_duck, journey, prop="plan").to_dict()
    )
