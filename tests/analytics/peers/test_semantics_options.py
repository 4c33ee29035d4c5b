"""Combinations a peer does not have are refused with a message naming what was expected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis
import pytest

from journeykit.analytics.milestones import AnalyticsError
from tests.analytics.peers.support import at, run
from tests.builders import Event

EVENTS = [Event("1", "a", at(0)), Event("1", "b", at(1)), Event("1", "x", at(2))]
AB = [{"event": "a"}, {"event": "b"}]
X = {"x": {"event": "x"}}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"semantics": "amplitude"}, "unknown semantics 'amplitude'"),
        ({"semantics": "clickhouse", "clickhouse": ("strict",)}, "unknown ClickHouse mode"),
        ({"clickhouse": ("strict_increase",)}, "need semantics 'clickhouse'"),
        ({"semantics": "clickhouse", "clickhouse": ("allow_reentry",)}, "needs strict_order"),
        ({"semantics": "clickhouse", "mode": "any"}, "windowFunnel is ordered"),
        ({"semantics": "clickhouse", "exclude": ["x"], "extra": X}, "has no exclusions"),
        ({"semantics": "clickhouse", "optional": (1,)}, "no optional steps"),
        ({"exclude": ["x:1-2"], "extra": X}, "a step range is PostHog semantics"),
        ({"semantics": "posthog", "exclude": ["x:2-2"], "extra": X}, "expected 1 <= FROM < TO"),
        ({"semantics": "posthog", "exclude": ["x:1"], "extra": X}, "MILESTONE:FROM-TO"),
        ({"semantics": "posthog", "exclude": ["x", "x:1-2"], "extra": X}, "given twice"),
        (
            {"semantics": "posthog", "mode": "any", "optional": (1,)},
            "unordered funnel has no optional steps",
        ),
    ],
)
def test_refused(con: ibis.BaseBackend, options: dict[str, Any], message: str) -> None:
    with pytest.raises(AnalyticsError, match=message):
        run(con, AB, EVENTS, window=timedelta(days=1), **options)


def test_a_whole_path_exclusion_is_fine_in_posthog_unordered(con: ibis.BaseBackend) -> None:
    got = run(con, AB, EVENTS, window=timedelta(days=1), semantics="posthog", mode="any",
              exclude=["x:1-2"], extra=X)  # fmt: skip
    assert [s.customers for s in got.steps] == [1, 1]
