"""ClickHouse's own ``windowFunnel`` tests, translated: ``semantics="clickhouse"`` gives their levels.

Source: ClickHouse/ClickHouse, tests/queries/0_stateless/00632_aggregation_window_funnel.sql and
its .reference (each case names the query it comes from). A condition ``event = X`` becomes a
milestone ``when: {event: X}``; ``event <= 1007`` lists the names it admits, so one event meets
several steps, as there. Timestamps are seconds from a fixed base and windows are seconds.

The .reference in the repository is newer than the ClickHouse in chDB 4.4 (and than
AggregateFunctionWindowFunnel.cpp as read for this module) for ``strict_order``: there, an
earlier step seen again after the funnel moved on ends it. The cases where the two versions
differ are listed in ``NEWER_STRICT_ORDER`` with both answers; journeykit gives the chDB 4.4 /
.cpp answer, which ``test_funnel_chdb_peer.py`` also checks against chDB on generated logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import ibis
import pytest

from tests.analytics.peers.support import at, levels, run
from tests.builders import Event

SQL = "tests/queries/0_stateless/00632_aggregation_window_funnel.sql"


def _numbered(rows: Sequence[tuple[float, int]], user: str = "1") -> list[Event]:
    return [Event(user, f"e{code}", at(t)) for t, code in rows]


def _named(rows: Sequence[tuple[float, int, str]]) -> list[Event]:
    return [Event(str(user), name, at(t)) for t, user, name in rows]


def _eq(*codes: int) -> list[Any]:
    return [{"event": f"e{c}"} for c in codes]


FUNNEL_TEST = _numbered([(t, 1000 + t) for t in range(9)])
FUNNEL_TEST2 = _numbered([(t, 1000 + t) for t in range(1, 9)])  # 01:01:01 .. 01:01:08
FUNNEL_TEST_STRICT = _numbered(
    [(0, 1000), (10, 1001), (20, 1002), (30, 1003), (40, 1004), (50, 1005), (51, 1005),
     (60, 1006), (70, 1007), (80, 1008)]
)  # fmt: skip
STRICT_ORDER = _named(
    [(1, 1, "a"), (2, 1, "b"), (3, 1, "c"),
     (1, 2, "a"), (2, 2, "d"), (3, 2, "b"), (4, 2, "c"),
     (1, 3, "a"), (2, 3, "a"), (3, 3, "b"), (4, 3, "b"), (5, 3, "c"), (6, 3, "c"),
     (1, 4, "a"), (2, 4, "a"), (3, 4, "a"), (4, 4, "a"), (5, 4, "b"), (6, 4, "b"), (7, 4, "c"),
     (8, 4, "c"),
     (1, 5, "a"), (2, 5, "a"), (3, 5, "b"), (4, 5, "b"), (5, 5, "d"), (6, 5, "c"), (7, 5, "c"),
     (1, 6, "c"), (2, 6, "c"), (3, 6, "b"), (4, 6, "b"), (5, 6, "a"), (6, 6, "a")]
)  # fmt: skip
STRICT_INCREASE = _numbered([(0, 1000), (1, 1001), (1, 1002), (1, 1003), (2, 1004)])
ABC = [{"event": "a"}, {"event": "b"}, {"event": "c"}]


def _upto(hi: int) -> dict[str, Any]:
    return {"event": [f"e{c}" for c in range(1001, hi + 1)]}


def _from(lo: int) -> dict[str, Any]:
    return {"event": [f"e{c}" for c in range(lo, 1009)]}


# (query in the .sql, events, step rules, window seconds, modes, expected level of user "1")
SINGLE_USER = [
    ("windowFunnel(10000)(timestamp, event = 1000)", FUNNEL_TEST, _eq(1000), 10000, (), 1),
    ("windowFunnel(10000)(... 1000, 1001)", FUNNEL_TEST, _eq(1000, 1001), 10000, (), 2),
    ("windowFunnel(10000)(... 1000, 1001, 1002)", FUNNEL_TEST, _eq(1000, 1001, 1002), 10000, (), 3),
    ("windowFunnel(10000)(... 1000, 1001, 1002, 1008)", FUNNEL_TEST, _eq(1000, 1001, 1002, 1008),
     10000, (), 4),
    ("windowFunnel(1)(timestamp, event = 1000)", FUNNEL_TEST, _eq(1000), 1, (), 1),
    ("windowFunnel(2)(... 1003..1007)", FUNNEL_TEST, _eq(*range(1003, 1008)), 2, (), 3),
    ("windowFunnel(3)(... 1003..1007)", FUNNEL_TEST, _eq(*range(1003, 1008)), 3, (), 4),
    ("windowFunnel(4)(... 1003..1007)", FUNNEL_TEST, _eq(*range(1003, 1008)), 4, (), 5),
    ("funnel_test2: windowFunnel(4)(... 1003..1007)", FUNNEL_TEST2, _eq(*range(1003, 1008)), 4,
     (), 5),
    ("funnel_test2: windowFunnel(10000)(... 1001, 1008)", FUNNEL_TEST2, _eq(1001, 1008), 10000,
     (), 2),
    ("funnel_test2: windowFunnel(10000)(... 1008, 1001)", FUNNEL_TEST2, _eq(1008, 1001), 10000,
     (), 1),
    ("funnel_test2: windowFunnel(4)(event <= 1007, event >= 1002, event <= 1006, event >= 1004)",
     FUNNEL_TEST2, [_upto(1007), _from(1002), _upto(1006), _from(1004)], 4, (), 4),
    ("funnel_test_strict: windowFunnel(10000, 'strict_deduplication')(... 1000..1006)",
     FUNNEL_TEST_STRICT, _eq(*range(1000, 1007)), 10000, ("strict_deduplication",), 6),
    ("funnel_test_strict: windowFunnel(10000)(... 1000..1006)", FUNNEL_TEST_STRICT,
     _eq(*range(1000, 1007)), 10000, (), 7),
    ("strict_BiteTheDDDD: windowFunnel(86400, 'strict_deduplication')(a, b, c, d)",
     _named([(1, 1, "a"), (2, 1, "b"), (3, 1, "c"), (4, 1, "b"), (5, 1, "d")]),
     [{"event": x} for x in "abcd"], 86400, ("strict_deduplication",), 3),
    ("funnel_test_strict_increase: windowFunnel(10000)(... 1000..1004)", STRICT_INCREASE,
     _eq(*range(1000, 1005)), 10000, (), 5),
    ("funnel_test_strict_increase: windowFunnel(10000, 'strict_increase')(... 1000..1004)",
     STRICT_INCREASE, _eq(*range(1000, 1005)), 10000, ("strict_increase",), 2),
    ("funnel_test_strict_increase: windowFunnel(10000)(1004, 1004, 1004)", STRICT_INCREASE,
     _eq(1004, 1004, 1004), 10000, (), 3),
    ("funnel_test_strict_increase: windowFunnel(10000, 'strict_increase')(1004, 1004, 1004)",
     STRICT_INCREASE, _eq(1004, 1004, 1004), 10000, ("strict_increase",), 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "events", "rules", "seconds", "modes", "expected"),
    SINGLE_USER,
    ids=[c[0] for c in SINGLE_USER],
)
def test_single_user_cases(
    con: ibis.BaseBackend,
    query: str,
    events: list[Event],
    rules: list[Any],
    seconds: int,
    modes: tuple[str, ...],
    expected: int,
) -> None:
    got = run(
        con,
        rules,
        events,
        window=timedelta(seconds=seconds),
        semantics="clickhouse",
        clickhouse=modes,
    )
    assert levels(got, ["1"]) == {"1": expected}, f"{SQL}: {query}"


USERS = [str(u) for u in range(1, 7)]
# (query, events, modes, expected per user), from funnel_test_strict_order and the .reference.
MULTI_USER = [
    ("windowFunnel(86400)(dt, event='a', event='b', event='c')", (), [3, 3, 3, 3, 3, 1]),
    ("windowFunnel(86400, 'strict_order')(...)", ("strict_order",), [3, 1, 3, 3, 2, 1]),
    ("windowFunnel(86400, 'strict_deduplication', 'strict_order')(...)",
     ("strict_deduplication", "strict_order"), [3, 1, 2, 2, 2, 1]),
]  # fmt: skip


@pytest.mark.parametrize(("query", "modes", "expected"), MULTI_USER, ids=[c[0] for c in MULTI_USER])
def test_strict_order_table(
    con: ibis.BaseBackend, query: str, modes: tuple[str, ...], expected: list[int]
) -> None:
    got = run(
        con, ABC, STRICT_ORDER, window=timedelta(days=1), semantics="clickhouse", clickhouse=modes
    )
    assert levels(got, USERS) == dict(zip(USERS, expected, strict=True)), f"{SQL}: {query}"


def test_strict_order_with_a_short_window(con: ibis.BaseBackend) -> None:
    """windowFunnel(10, 'strict_order') on user 7: a, c, b -> 1 (c comes before b)."""
    events = _named([(1, 7, "a"), (2, 7, "c"), (3, 7, "b")])
    got = run(
        con,
        ABC,
        events,
        window=timedelta(seconds=10),
        semantics="clickhouse",
        clickhouse=("strict_order",),
    )
    assert levels(got, ["7"]) == {"7": 1}


NON_NULL = [
    Event("1", "x", at(1), None, {"a": "a1", "b": "b1"}),
    Event("1", "x", at(2), None, {"a": "a2", "b": "b2"}),
    Event("2", "x", at(1), None, {"a": "a1"}),
    Event("2", "x", at(2), None, {"a": "a2"}),
    Event("3", "x", at(1), None, {}),
    Event("4", "x", at(1), None, {"b": "b1"}),
    Event("4", "x", at(2), None, {"a": "a2"}),
    Event("4", "x", at(3), None, {"b": "b3"}),
]
NULL = {"exists": False}
# funnel_test_non_null: COALESCE(a, '') = 'a1' is "a is a1" (a missing value fails it).
NON_NULL_CASES = [
    ("windowFunnel(86400)(dt, COALESCE(a, '') = 'a1', COALESCE(a, '') = 'a2')",
     [{"properties": {"a": "a1"}}, {"properties": {"a": "a2"}}], (), [2, 2, 0, 0]),
    ("windowFunnel(86400)(dt, COALESCE(a, '') = 'a1', COALESCE(b, '') = 'b2')",
     [{"properties": {"a": "a1"}}, {"properties": {"b": "b2"}}], (), [2, 1, 0, 0]),
    ("windowFunnel(86400)(dt, a is null and b is null)",
     [{"properties": {"a": NULL, "b": NULL}}], (), [0, 0, 1, 0]),
    ("windowFunnel(86400)(dt, a is null, COALESCE(b, '') = 'b3')",
     [{"properties": {"a": NULL}}, {"properties": {"b": "b3"}}], (), [0, 0, 1, 2]),
    ("windowFunnel(86400, 'strict_order')(dt, a is null, COALESCE(b, '') = 'b3')",
     [{"properties": {"a": NULL}}, {"properties": {"b": "b3"}}], ("strict_order",), [0, 0, 1, 1]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "rules", "modes", "expected"), NON_NULL_CASES, ids=[c[0] for c in NON_NULL_CASES]
)
def test_missing_values(
    con: ibis.BaseBackend, query: str, rules: list[Any], modes: tuple[str, ...], expected: list[int]
) -> None:
    got = run(
        con, rules, NON_NULL, window=timedelta(days=1), semantics="clickhouse", clickhouse=modes
    )
    users = ["1", "2", "3", "4"]
    assert levels(got, users) == dict(zip(users, expected, strict=True)), f"{SQL}: {query}"


REENTRY = _named(
    [(1, 1, "a"), (2, 1, "b"), (3, 1, "a"), (4, 1, "c"),
     (1, 2, "a"), (2, 2, "b"), (3, 2, "a"), (4, 2, "b"), (5, 2, "c"),
     (1, 3, "a"), (2, 3, "b"), (3, 3, "c"), (4, 3, "b"), (5, 3, "d"),
     (1, 4, "a"), (2, 4, "c"), (3, 4, "b"),
     (1, 5, "a"), (2, 5, "b"), (3, 5, "c"), (4, 5, "a"), (5, 5, "b"), (6, 5, "c"), (7, 5, "d")]
)  # fmt: skip
ABCD = [*ABC, {"event": "d"}]
# funnel_test_allow_reentry: (query, steps, modes, .reference answer, chDB 4.4 / .cpp answer).
NEWER_STRICT_ORDER = [
    ("windowFunnel(86400, 'strict_order')(a, b, c)", ABC, ("strict_order",),
     [2, 2, 3, 1, 3], [3, 3, 3, 1, 3]),
    ("windowFunnel(86400, 'strict_order', 'allow_reentry')(a, b, c)", ABC,
     ("strict_order", "allow_reentry"), [3, 3, 3, 1, 3], [3, 3, 3, 2, 3]),
    ("windowFunnel(86400, 'strict_order')(a, b, c, d)", ABCD, ("strict_order",),
     [2, 2, 4, 1, 3], [3, 3, 4, 1, 4]),
    ("windowFunnel(86400, 'strict_order', 'allow_reentry')(a, b, c, d)", ABCD,
     ("strict_order", "allow_reentry"), [3, 3, 4, 1, 4], [3, 3, 4, 2, 4]),
    ("windowFunnel(86400, 'strict_order', 'allow_reentry', 'strict_deduplication')(a, b, c)", ABC,
     ("strict_order", "allow_reentry", "strict_deduplication"), [3, 1, 3, 1, 3], [3, 2, 3, 2, 3]),
]  # fmt: skip

ECOMMERCE = _named(
    [(100, 1, "begin_checkout"), (200, 1, "view_product_detail"), (300, 1, "begin_checkout"),
     (400, 1, "complete_payment"),
     (100, 2, "begin_checkout"), (200, 2, "view_product_detail"), (250, 2, "view_product_detail"),
     (300, 2, "begin_checkout"), (400, 2, "complete_payment"),
     (100, 3, "begin_checkout"), (200, 3, "view_product_detail"), (300, 3, "complete_payment")]
)  # fmt: skip
CHECKOUT = [{"event": e} for e in ("begin_checkout", "view_product_detail", "complete_payment")]
CHECKOUT4 = [*CHECKOUT[:2], {"event": "begin_checkout"}, CHECKOUT[2]]
# funnel_test_ecommerce: (query, steps, modes, .reference answer, chDB 4.4 / .cpp answer).
ECOMMERCE_CASES = [
    ("windowFunnel(600, 'strict_order')(3 steps)", CHECKOUT, ("strict_order",),
     [2, 2, 3], [3, 3, 3]),
    ("windowFunnel(600, 'strict_order', 'allow_reentry')(3 steps)", CHECKOUT,
     ("strict_order", "allow_reentry"), [3, 3, 3], [3, 3, 3]),
    ("windowFunnel(600, 'strict_order')(4 steps, begin_checkout twice)", CHECKOUT4,
     ("strict_order",), [1, 1, 1], [1, 1, 1]),
    ("windowFunnel(600, 'strict_order', 'allow_reentry')(4 steps, begin_checkout twice)",
     CHECKOUT4, ("strict_order", "allow_reentry"), [1, 1, 1], [4, 4, 2]),
]  # fmt: skip
# Both tables as (query, events, window seconds, steps, modes, .reference answer, chDB 4.4).
VERSIONED = [
    (q, REENTRY, 86400, r, m, newer, chdb) for q, r, m, newer, chdb in NEWER_STRICT_ORDER
] + [(q, ECOMMERCE, 600, r, m, newer, chdb) for q, r, m, newer, chdb in ECOMMERCE_CASES]


@pytest.mark.parametrize(
    ("query", "events", "seconds", "rules", "modes", "newer", "chdb"),
    VERSIONED,
    ids=[c[0] for c in VERSIONED],
)
def test_strict_order_where_clickhouse_versions_differ(
    con: ibis.BaseBackend,
    query: str,
    events: list[Event],
    seconds: int,
    rules: list[Any],
    modes: tuple[str, ...],
    newer: list[int],
    chdb: list[int],
) -> None:
    """journeykit gives chDB 4.4's answer; the newer .reference's is kept beside it."""
    got = run(
        con, rules, events, window=timedelta(seconds=seconds), semantics="clickhouse",
        clickhouse=modes,
    )  # fmt: skip
    users = sorted({e.customer_id for e in events})
    assert levels(got, users) == dict(zip(users, chdb, strict=True)), f"{SQL}: {query}"
