"""Touchpoints without a holdout: the landmark comparison against a brute-force count."""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa
import pytest

from journeykit.analytics.milestones import fetch_milestones
from journeykit.journey import parse_journey
from journeykit.prove.touchpoints import associations, with_touchpoints

JOURNEY = parse_journey(
    """
id: j
title: J
transformation: {from: a, to: b}
personas:
  - {id: pro, name: Pro, segment: {event: start, properties: {plan: pro}}}
milestones:
  - {id: start, title: Start, phase: pre, when: {event: start}}
  - {id: done, title: Done, phase: core, when: {event: done}, expected_within: 10d}
touchpoints:
  - {from: start, to: done, channel: email, action: Tips email, when: {event: email_open}}
  - {from: start, to: done, channel: call, action: Call}
"""
)
T0 = datetime(2024, 1, 1)


def _log(n: int, seed: int) -> tuple[pa.Table, list[tuple[int, float | None, float | None, bool]]]:
    rng = np.random.default_rng(seed)
    rows: list[tuple[str, str, datetime, str | None]] = []
    truth = []
    for i in range(n):
        c, start = f"c{i}", T0 + timedelta(days=float(rng.integers(0, 40)))
        pro = bool(rng.random() < 0.4)
        rows.append((c, "start", start, '{"plan": "pro"}' if pro else '{"plan": "free"}'))
        opened = None
        if rng.random() < 0.5:
            opened = float(rng.uniform(0, 6))
            rows.append((c, "email_open", start + timedelta(days=opened), None))
        done = None
        if rng.random() < (0.5 if opened is not None else 0.3):
            done = float(rng.uniform(0, 12))
            rows.append((c, "done", start + timedelta(days=done), None))
        truth.append((i, opened, done, pro))
    rows.append(("zz", "other", T0 + timedelta(days=60), None))
    table = pa.table(
        {
            "customer_id": [r[0] for r in rows],
            "event": [r[1] for r in rows],
            "timestamp": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "properties": pa.array([r[3] for r in rows], pa.string()),
            "value": pa.array([None] * len(rows), pa.float64()),
        }
    )
    return table, truth


def test_association_counts_match_brute_force() -> None:
    table, truth = _log(1500, 3)
    frame = fetch_milestones(ibis.memtable(table), with_touchpoints(JOURNEY), personas=True)
    (a,) = associations(frame, JOURNEY)  # the call has no rule: nothing to observe
    assert a.touchpoint.action == "Tips email" and a.landmark == timedelta(days=5)
    # Brute force: landmark 5 days, window 10 days; the log ends at day 60 for everyone.
    exposed = [0, 0]
    reached = [0, 0]
    before = 0
    for _i, opened, done, _pro in truth:
        if done is not None and done <= 5:
            before += 1
            continue
        got = opened is not None and opened <= 5  # opened by the landmark
        k = 0 if got else 1
        exposed[k] += 1
        reached[k] += done is not None and 5 < done <= 10
    assert a.excluded["reached_before_landmark"] == before
    assert (a.exposed.customers, a.not_exposed.customers) == tuple(exposed)
    assert (a.exposed.reached, a.not_exposed.reached) == tuple(reached)
    assert a.difference.estimate == pytest.approx(reached[0] / exposed[0] - reached[1] / exposed[1])
    assert a.adjusted is not None and a.difference.low < a.difference.estimate < a.difference.high
    assert "not proof" in a.to_dict()["caveat"] and a.to_dict()["kind"] == "association"
