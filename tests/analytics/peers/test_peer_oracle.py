"""Every peer mode agrees with the brute-force reference (tests/oracle_peers.py) on generated
logs, on DuckDB and, with a few examples, on Spark in local mode.

Logs come from the funnel's own strategies (ties on a 12-hour grid, rules that share event
names so one event serves several steps, near-miss properties); paths here have no per-step
windows (neither peer has them) and, for PostHog's ordered funnels, sometimes optional steps and
an exclusion scoped to a random range of steps.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import funnel
from journeykit.journey import Journey
from tests import oracle_peers
from tests.analytics.cases import events_table, has_data
from tests.analytics.strategies import NAMES, event_logs, make_journey, nows, rules, windows
from tests.builders import Event, to_arrow

# (semantics, mode, ClickHouse modes)
PEER_MODES = [
    ("clickhouse", "ordered", ()),
    ("clickhouse", "strict", ()),
    ("clickhouse", "ordered", ("strict_deduplication",)),
    ("clickhouse", "ordered", ("strict_increase",)),
    ("clickhouse", "strict", ("allow_reentry", "strict_deduplication")),
    ("posthog", "ordered", ()),
    ("posthog", "strict", ()),
    ("posthog", "any", ()),
]
Case = tuple[Journey, list[Event], timedelta | None, datetime | None, list[oracle_peers.Exclusion]]


@st.composite
def peer_cases(draw: st.DrawFn, semantics: str, mode: str) -> Case:
    n = draw(st.integers(3, 5))
    ids = [f"m{i}" for i in range(n)]
    names = NAMES[:n]
    milestones = {m: draw(rules(names[i], names)) for i, m in enumerate(ids)}
    order = draw(st.permutations(ids))
    k = draw(st.integers(2, n - 1))
    on_path, off = order[:k], order[k:]
    may_skip = semantics == "posthog" and mode != "any"
    steps: list[Any] = [on_path[0]] + [
        {"milestone": m, "optional": True} if may_skip and draw(st.integers(0, 3)) == 0 else m
        for m in on_path[1:]
    ]
    journey = make_journey(milestones, {"main": steps})
    exclude: list[oracle_peers.Exclusion] = []
    if semantics == "posthog" and draw(st.booleans()):
        if mode == "any":
            exclude = [(off[0], None, None)]
        else:
            a = draw(st.integers(1, k - 1))
            exclude = [(off[0], a, draw(st.integers(a + 1, k)))]
    story = [NAMES[int(m[1:])] for m in on_path]
    log = draw(event_logs(sorted(set(names)), story))
    return journey, log, draw(windows()), draw(nows()), exclude


def _check(events: Any, case: Case, semantics: str, mode: str, modes: tuple[str, ...]) -> None:
    journey, log, window, now, exclude = case
    expected = oracle_peers.peer_funnel(
        log, journey, semantics=semantics, mode=mode, window=window, now=now, exclude=exclude,
        clickhouse=modes,
    )  # fmt: skip
    got = funnel(
        events,
        journey,
        mode=mode,  # type: ignore[arg-type]
        window=window,
        now=now,
        exclude=[m if a is None else f"{m}:{a}-{b}" for m, a, b in exclude],
        semantics=semantics,  # type: ignore[arg-type]
        clickhouse=modes,
    )
    furthest = {str(c): int(k) + 1 for c, k in zip(got.customer_ids, got.furthest, strict=True)}
    assert furthest == expected["furthest"]
    assert [s.customers for s in got.steps] == expected["counts"]


@pytest.mark.parametrize(("semantics", "mode", "modes"), PEER_MODES)
@settings(settings.get_profile("analytics"))
@given(data=st.data())
def test_peer_modes_agree_with_oracle_on_duckdb(
    con: ibis.BaseBackend, semantics: str, mode: str, modes: tuple[str, ...], data: st.DataObject
) -> None:
    case = data.draw(peer_cases(semantics, mode))
    if not has_data(case[1], case[3]):
        return
    _check(events_table(con, case[1]), case, semantics, mode, modes)


@pytest.mark.spark
@pytest.mark.parametrize(("semantics", "mode", "modes"), PEER_MODES)
@settings(settings.get_profile("analytics"), max_examples=3)
@given(data=st.data())
def test_peer_modes_agree_with_oracle_on_spark(
    spark: Any, semantics: str, mode: str, modes: tuple[str, ...], data: st.DataObject
) -> None:
    case = data.draw(peer_cases(semantics, mode))
    if not has_data(case[1], case[3]):
        return
    _check(spark.upload(to_arrow(case[1])), case, semantics, mode, modes)
