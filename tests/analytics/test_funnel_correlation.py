"""Funnel correlation (docs/metrics.md "Funnel correlation"): PostHog's odds ratio and minimum
count, a Fisher exact test, against hand counts and the brute-force oracle."""

from __future__ import annotations

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel
from journeykit.analytics.correlation import funnel_correlation
from journeykit.analytics.errors import AnalyticsError
from tests import oracle
from tests.analytics.cases import ABC, D30, Scenario, events_table, has_data
from tests.analytics.strategies import scenarios
from tests.builders import events_for


def test_odds_ratio_and_fisher_by_hand(con: ibis.BaseBackend) -> None:
    # x, y convert and watched a demo in between; z drops at b and reads docs after it; w drops
    # at a and watches a demo after it; v is in progress (now is within its window), left out.
    log = events_for(
        {
            "x": [
                ("a", "2024-01-01"),
                ("demo", "2024-01-02"),
                ("b", "2024-01-03"),
                ("c", "2024-01-04"),
            ],
            "y": [
                ("a", "2024-01-01"),
                ("demo", "2024-01-02"),
                ("b", "2024-01-03"),
                ("c", "2024-01-05"),
            ],
            "z": [("a", "2024-01-01"), ("b", "2024-01-02"), ("docs", "2024-01-03")],
            "w": [("a", "2024-01-01"), ("demo", "2024-01-01 01:00")],
            "v": [("a", "2024-03-01"), ("demo", "2024-03-02")],
        }
    )
    events = events_table(con, log)
    result = funnel(events, ABC, window=D30)
    got = funnel_correlation(result, events, ABC)
    assert (got.success_total, got.failure_total, got.in_progress) == (2, 2, 1)
    rows = {r.label: r for r in got.correlations}
    # An attempt runs from step 1 to its furthest step: z's docs and w's demo come after theirs.
    # demo: s = 2 of 2, f = 0 of 2: (2+1)(2-0+1) / ((2-2+1)(0+1)) = 9
    assert set(rows) == {"demo"}
    assert rows["demo"].odds_ratio == 9.0 and rows["demo"].kind == "success"
    # Fisher: margins 2/2 and 2/2; [[2,0],[0,2]] and [[0,2],[2,0]] each 1/6: p = 1/3
    assert rows["demo"].p_value == pytest.approx(1 / 3)
    # PostHog's minimum: 2 customers >= min(25, 2% of 4): not flagged
    assert not rows["demo"].insignificant
    by_prop = funnel_correlation(result, events, ABC, prop="plan")
    assert by_prop.correlations == ()
    with pytest.raises(AnalyticsError, match="times"):
        funnel_correlation(funnel(events, ABC, window=D30, mode="any"), events, ABC)


@pytest.mark.parametrize("prop", [None, "plan"])
@settings(settings.get_profile("analytics"))
@given(case=scenarios(), mode=st.sampled_from(["ordered", "strict"]))
def test_correlation_agrees_with_oracle(
    con: ibis.BaseBackend, case: Scenario, mode: str, prop: str | None
) -> None:
    journey, events, window, now = case
    if not has_data(events, now):
        return
    table = events_table(con, events)
    result = funnel(table, journey, window=window, now=now, mode=mode)  # type: ignore[arg-type]
    got = funnel_correlation(result, table, journey, prop=prop)
    expected = oracle.funnel(events, journey, window=window, now=now, mode=mode)  # type: ignore[arg-type]
    kept = [e for e in events if now is None or e.timestamp <= now]
    want = oracle.correlation(kept, journey, expected, prop=prop)
    assert {r.label: (r.success, r.failure) for r in got.correlations} == {
        k: (s, f) for k, (s, f, _, _) in want.items()
    }
    for r in got.correlations:
        assert r.odds_ratio == pytest.approx(float(want[r.label][2]))
        assert r.p_value == pytest.approx(want[r.label][3], rel=1e-9, abs=1e-12)
