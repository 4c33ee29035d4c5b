"""Running a peer's test journey through journeykit: steps as milestones, events as rows.

A peer's test names its steps by a condition on one event; here each step becomes a milestone
whose ``when`` rule says the same, and each case's expected numbers are the peer's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import ibis

from journeykit.analytics import funnel
from journeykit.analytics.results import FunnelResult
from tests.analytics.strategies import make_journey
from tests.builders import Event

BASE = datetime(2018, 1, 1)


def at(seconds: float) -> datetime:
    return BASE + timedelta(seconds=seconds)


def run(
    con: ibis.BaseBackend,
    rules: Sequence[Any],
    events: Sequence[Event],
    *,
    window: timedelta | None,
    optional: Sequence[int] = (),
    extra: Mapping[str, Any] | None = None,
    **options: Any,
) -> FunnelResult:
    """The funnel of steps ``rules`` (when-rules; 0-based ``optional`` steps) over ``events``.

    ``extra`` adds milestones off the path (exclusions), by id.
    """
    milestones = {f"s{i}": rule for i, rule in enumerate(rules)}
    milestones |= dict(extra or {})
    steps: list[Any] = [
        {"milestone": f"s{i}", "optional": True} if i in optional else f"s{i}"
        for i in range(len(rules))
    ]
    journey = make_journey(milestones, {"main": steps})
    table = con.create_table("peer_events", _arrow(events), overwrite=True)
    return funnel(table, journey, window=window, **options)


def _arrow(events: Sequence[Event]) -> Any:
    from tests.builders import to_arrow

    return to_arrow(list(events))


def levels(result: FunnelResult, customers: Sequence[str]) -> dict[str, int]:
    """Per customer, the number of steps reached (0: none), as windowFunnel returns it."""
    got = {str(c): int(k) + 1 for c, k in zip(result.customer_ids, result.furthest, strict=True)}
    return {c: got.get(c, 0) for c in customers}
