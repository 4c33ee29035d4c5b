"""Paths, cohorts and time statistics (DESIGN "Paths"; docs/metrics.md).

Hand cases, then the oracle on random logs.
"""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import cohorts, event_paths, paths
from journeykit.analytics.paths import _transitions, _variants, tie_order
from tests import oracle
from tests.analytics.cases import ABC, ONBOARDING, Scenario, events_table, has_data
from tests.analytics.strategies import scenarios
from tests.builders import events_for


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


@settings(settings.get_profile("analytics"))
@given(case=scenarios())
def test_paths_and_cohorts_agree_with_oracle(con: ibis.BaseBackend, case: Scenario) -> None:
    journey, events, _, now = case
    if not has_data(events, now):
        return
    table = events_table(con, events)
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
    if not has_data(events, now):
        return
    names = sorted({e.event for e in events})
    only = data.draw(st.sampled_from([(), tuple(names[:2])]), label="only")
    skip = data.draw(st.sampled_from([(), ("noise",)]), label="skip")
    expected = oracle.event_paths(events, only=only, skip=skip, now=now)
    got = event_paths(events_table(con, events), only=only, skip=skip, top=None, now=now)
    assert [(v.steps, v.customers) for v in got.variants] == expected["variants"]
    assert got.customers == expected["total"]
    assert {
        (t.from_, t.to): (t.count, pytest.approx(t.median_seconds)) for t in got.transitions
    } == expected["transitions"]


@pytest.mark.parametrize("seed", range(5))
def test_tie_order_sorts_same_time_rows_by_key_stably(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 400
    cust = np.sort(rng.integers(0, 40, n))
    ts = np.zeros(n, dtype=np.int64)
    for c in np.unique(cust):  # per customer, few distinct times: many ties
        at = np.flatnonzero(cust == c)
        ts[at] = np.sort(rng.integers(0, 5, len(at)))
    key = rng.integers(0, 4, n)
    expected = sorted(range(n), key=lambda i: (cust[i], ts[i], key[i]))
    assert tie_order(cust, ts, key).tolist() == expected


@pytest.mark.parametrize("seed", range(8))
def test_top_variants_are_the_head_of_the_full_ranking(seed: int) -> None:
    # `_variants` spells out only the variants that can reach the top; the full ranking is the
    # reference (counts tie often here: few customers, few milestones).
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    cust = np.sort(rng.integers(0, max(n // 3, 1), n))
    m = rng.integers(0, 3, n).astype(np.int16)
    ids = ["a", "b", "c"]
    total = len(np.unique(cust))
    every = _variants(cust, m, ids, total, None)
    for top in (0, 1, 2, 5, 20, len(every), len(every) + 3):
        assert _variants(cust, m, ids, total, top) == every[:top]


@pytest.mark.parametrize("seed", range(4))
def test_transitions_sort_the_same_with_few_or_many_milestones(seed: int) -> None:
    # Pairs of few milestones sort as 16-bit numbers (radix), of many as 64-bit: same answer.
    rng = np.random.default_rng(seed)
    n = 500
    cust = np.sort(rng.integers(0, 60, n))
    m = rng.integers(0, 4, n)
    t_first = rng.integers(0, 10**9, n)
    t_last = t_first + rng.integers(0, 10**6, n)
    few = [f"m{i}" for i in range(4)]
    many = few + [f"x{i}" for i in range(300)]
    assert _transitions(cust, m, t_first, t_last, few) == _transitions(
        cust, m, t_first, t_last, many
    )
