"""Combinations a peer does not have are refused with a message naming what was expected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis
import pytest

from journeykit.analytics.errors import FunnelOptionError
from tests.analytics.peers.support import at, run
from tests.builders import Event

EVENTS = [Event("1", "a", at(0)), Event("1", "b", at(1)), Event("1", "x", at(2))]
AB = [{"event": "a"}, {"event": "b"}]
X = {"x": {"event": "x"}}


@pytest.mark.parametrize(
    ("options", "message", "field"),
    [
        ({"semantics": "amplitude"}, "unknown semantics 'amplitude'", "semantics"),
        (
            {"semantics": "clickhouse", "clickhouse": ("strict",)},
            "unknown ClickHouse mode",
            "clickhouse",
        ),
        ({"clickhouse": ("strict_increase",)}, "need semantics 'clickhouse'", "clickhouse"),
        (
            {"semantics": "clickhouse", "clickhouse": ("allow_reentry",)},
            "needs strict_order",
            "clickhouse",
        ),
        ({"semantics": "clickhouse", "mode": "any"}, "windowFunnel is ordered", "mode"),
        ({"semantics": "clickhouse", "exclude": ["x"], "extra": X}, "has no exclusions", "exclude"),
        ({"semantics": "clickhouse", "optional": (1,)}, "no optional steps", "semantics"),
        ({"exclude": ["x:1-2"], "extra": X}, "a step range is PostHog semantics", "exclude"),
        (
            {"semantics": "posthog", "exclude": ["x:2-2"], "extra": X},
            "expected 1 <= FROM < TO",
            "exclude",
        ),
        ({"semantics": "posthog", "exclude": ["x:1"], "extra": X}, "MILESTONE:FROM-TO", "exclude"),
        ({"semantics": "posthog", "exclude": ["x", "x:1-2"], "extra": X}, "given twice", "exclude"),
        (
            {"semantics": "posthog", "mode": "any", "optional": (1,)},
            "unordered funnel has no optional steps",
            "mode",
        ),
    ],
)
def test_refused(con: ibis.BaseBackend, options: dict[str, Any], message: str, field: str) -> None:
    """Each refusal names the option at fault, so a form can mark that control (web)."""
    with pytest.raises(FunnelOptionError, match=message) as refused:
        run(con, AB, EVENTS, window=timedelta(days=1), **options)
    assert refused.value.field == field


def test_a_whole_path_exclusion_is_fine_in_posthog_unordered(con: ibis.BaseBackend) -> None:
    got = run(con, AB, EVENTS, window=timedelta(days=1), semantics="posthog", mode="any",
              exclude=["x:1-2"], extra=X)  # fmt: skip
    assert [s.customers for s in got.steps] == [1, 1]
