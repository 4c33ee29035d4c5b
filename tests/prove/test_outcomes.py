"""Each entry's outcome against a brute-force reading of the milestone log."""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.milestones import fetch_milestones
from journeykit.journey import parse_journey
from journeykit.prove.outcomes import (
    ALREADY,
    FAILED,
    PENDING,
    REACHED,
    EntryColumns,
    events_before,
    outcomes,
)

JOURNEY = parse_journey(
    """
id: j
title: J
transformation: {from: a, to: b}
milestones:
  - {id: start, title: Start, phase: pre, when: {event: start}}
  - {id: goal, title: Goal, phase: core, when: {event: goal}}
"""
)
T0 = datetime(2024, 1, 1)
US = 10**6


def _us(t: datetime) -> int:
    return int(np.datetime64(t, "us").astype(np.int64))


events_st = st.lists(
    st.tuples(st.sampled_from(["c1", "c2", "c3"]), st.sampled_from(["start", "goal", "other"]),
              st.integers(0, 40)),
    min_size=1, max_size=30,
)  # fmt: skip
entries_st = st.lists(
    st.tuples(st.sampled_from(["c1", "c2", "c3", "c4"]), st.integers(0, 40), st.integers(1, 10)),
    min_size=1, max_size=8,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(events_st, entries_st, st.integers(0, 45))
def test_outcomes_match_brute_force(
    events: list[tuple[str, str, int]], entries: list[tuple[str, int, int]], now_day: int
) -> None:
    table = pa.table(
        {
            "customer_id": [c for c, _, _ in events],
            "event": [e for _, e, _ in events],
            "timestamp": pa.array([T0 + timedelta(days=d) for *_, d in events], pa.timestamp("us")),
            "properties": pa.array([None] * len(events), pa.string()),
            "value": pa.array([None] * len(events), pa.float64()),
        }
    )
    now = T0 + timedelta(days=now_day)
    frame = fetch_milestones(ibis.memtable(table), JOURNEY, now=now)
    cols = EntryColumns(
        customer_id=np.array([c for c, _, _ in entries], dtype=object),
        entered=np.array([_us(T0 + timedelta(days=d)) for _, d, _ in entries], np.int64),
        goal=np.array(["goal"] * len(entries), dtype=object),
        window=np.array([w * 86400 * US for *_, w in entries], np.int64),
        arm=np.array(["treatment"] * len(entries), dtype=object),
    )
    got = outcomes(frame, cols)
    before = events_before(frame, got.cust, cols.entered)
    for k, (c, d, w) in enumerate(entries):
        goals = sorted(t for cc, e, t in events if cc == c and e == "goal" and t <= now_day)
        if any(t < d for t in goals):
            expect = ALREADY
        elif any(d <= t <= d + w for t in goals):
            expect = REACHED
        elif d + w <= now_day:
            expect = FAILED
        else:
            expect = PENDING
        assert got.outcome[k] == expect, (entries[k], goals, now_day)
        if expect == REACHED:
            first = min(t for t in goals if t >= d)
            assert got.duration[k] == (first - d) * 86400 * US
        mine = [t for cc, e, t in events if cc == c and e in ("start", "goal") and t <= now_day]
        assert before[k] == sum(t < d for t in mine)
