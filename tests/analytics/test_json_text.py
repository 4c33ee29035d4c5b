"""Results that list every customer write exactly ``json.dumps(indent=2, ensure_ascii=False)``'s
bytes, through orjson (``results.indented_json``)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import ibis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics import positions
from journeykit.analytics.results import (
    Shared,
    exact_floats,
    indented_json,
    iso_times,
    json_bytes,
    json_times,
    records_json,
    rounded,
)
from journeykit.analytics.status import STATUSES, status_list
from journeykit.journey import parse_journey
from tests.builders import events_for, to_arrow

# Every code point but surrogates (which no Arrow string holds), and the ones escapes care about.
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ['"', "\\", "{}", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "\u2029", "\ufeff", "😀", ""]
)
floats = st.floats(allow_nan=True, allow_infinity=True)


def documents() -> st.SearchStrategy[Any]:
    """Texts, ints, None, bools, floats and naive datetimes in lists and dicts (empty ones too)."""
    leaves = (
        texts | st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | floats
        | st.datetimes()
    )  # fmt: skip
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
        max_leaves=20,
    )


def given_to_orjson(value: Any) -> Any:
    """The document as journeykit hands it to ``indented_json``: floats through
    ``exact_floats``."""
    if isinstance(value, list):
        return [given_to_orjson(v) for v in value]
    if isinstance(value, dict):
        return {k: given_to_orjson(v) for k, v in value.items()}
    if isinstance(value, float):
        return exact_floats(np.array([value]))[0]
    return value


def plain(value: Any) -> Any:
    """The document as ``to_dict`` gives it to ``json``: times as their ISO text."""
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(documents())
def test_orjson_writes_json_dumps_bytes(document: Any) -> None:
    assert indented_json(given_to_orjson(document)) == dumps(plain(document))


@settings(max_examples=400, deadline=None)
@given(st.lists(floats, max_size=20), st.integers(0, 4))
def test_floats_are_written_as_json_writes_them(values: list[float], digits: int) -> None:
    """Any float, and those ``rounded`` makes (days waiting): tiny and huge ones are where
    orjson's shortest text differs from ``repr`` (1e-05 vs 0.00001)."""
    for v in (values, rounded(np.array(values, dtype=np.float64), digits)):
        got = indented_json(exact_floats(np.array(v, dtype=np.float64)))
        assert got == dumps(v)


def test_floats_where_orjson_and_repr_part() -> None:
    edges = [0.0, -0.0, 1e-4, 9.99e-5, 1e-5, 1e-7, 5e-324, 1e16, 9.999999999999998e15, 1e22,
             -1e-5, 0.01, 2.675, math.nan, math.inf, -math.inf]  # fmt: skip
    assert indented_json(exact_floats(np.array(edges))) == dumps(edges)


def test_times_are_written_as_their_iso_text() -> None:
    rng = np.random.default_rng(11)
    first, last = -62135596800 * 10**6, 253402300799999999  # 0001-01-01, 9999-12-31 23:59:59.999999
    us = np.concatenate([rng.integers(first, last, 5000), rng.integers(0, 2 * 10**9, 500) * 10**6,
                         np.array([first, last, 0, -1, 1])])  # fmt: skip
    assert indented_json(json_times(us)) == dumps(iso_times(us))


JOURNEY = """\
id: s
title: S
transformation: {from: a, to: b}
milestones:
  - {id: a, title: A, phase: pre, when: a}
  - {id: b, title: B, phase: pre, when: b, expected_within: 2d}
  - {id: c, title: C, phase: core, when: c, expected_within: 2d}
  - {id: z, title: Z, phase: post, when: z}
paths:
  - {id: main, title: Main, steps: [a, b, c]}
  - {id: side, title: Side, steps: [a, z]}
touchpoints:
  - {from: a, to: b, channel: e-mail, action: "Nudge to b: « allez »"}
  - {from: b, to: a, channel: call, action: "Back to basics \\\\ \\"quoted\\""}
"""

# Customer ids json escapes (quotes, backslashes, control characters) and non-ASCII ones that
# ensure_ascii=False writes as they are; every status, and strays of each kind.
LOG = {
    "zed": [("a", "2024-01-01")],
    "Zoë 😀": [("a", "2024-01-01")],
    'q"uote\\': [("a", "2024-01-05")],
    "tab\there\x01": [("a", "2024-01-01"), ("b", "2024-01-08")],
    "日本": [("a", "2024-01-01"), ("b", "2024-01-02")],
    "\u2028line": [("a", "2024-01-01"), ("b", "2024-01-02"), ("c", "2024-01-03")],
    "fi": [("b", "2024-01-09"), ("a", "2024-01-09 12:00")],
    "sk": [("a", "2024-01-01"), ("c", "2024-01-09 00:00:00.5"), ("z", "2024-01-09")],
    "old": [("a", "2023-01-01 00:00:00.000001")],
}


@pytest.fixture(scope="module")
def placed():  # type: ignore[no-untyped-def]
    journey = parse_journey(JOURNEY)
    return journey, positions(ibis.memtable(to_arrow(events_for(LOG))), journey)


def test_positions_and_lists_write_json_dumps_bytes(placed) -> None:  # type: ignore[no-untyped-def]
    journey, pos = placed
    assert {c.status for c in pos.customers} == set(STATUSES)
    assert any(c.strays for c in pos.customers)
    assert json_bytes(pos) == dumps(pos.to_dict())
    for status in STATUSES:
        for top in (None, 1):
            listed = status_list(pos, journey, status, top)
            assert json_bytes(listed) == dumps(listed.to_dict())


def test_what_orjson_refuses_is_written_by_json() -> None:
    """A document orjson cannot write (here a lone surrogate) falls back to ``to_dict``."""

    class Odd:
        def json_text(self) -> str:
            return records_json({}, "n", {"a": ["\ud800"]})

        def to_dict(self) -> dict[str, Any]:
            return {"n": 3, "é": [1.0e-05]}

    assert json_bytes(Odd()) == dumps({"n": 3, "é": [1.0e-05]})  # type: ignore[arg-type]


def records(n: int) -> st.SearchStrategy[dict[str, list[Any] | Shared]]:
    """Columns of ``n`` rows: of one kind of scalar, of mixed values, or shared values."""
    ints = st.integers(-(2**63), 2**63 - 1)
    scalars = texts | st.none() | st.booleans() | ints | floats | st.datetimes()
    column = (
        st.lists(texts, min_size=n, max_size=n)
        | st.lists(ints | floats, min_size=n, max_size=n)
        | st.lists(st.datetimes(), min_size=n, max_size=n)
        | st.lists(documents(), min_size=n, max_size=n)
        | st.lists(scalars, min_size=1, max_size=5).flatmap(
            lambda values: st.lists(st.integers(0, len(values) - 1), min_size=n, max_size=n).map(
                lambda codes: Shared(values, np.array(codes, dtype=np.int64))
            )
        )
    )
    return st.dictionaries(texts, column, min_size=1, max_size=6)


def as_written(column: list[Any] | Shared, r: int) -> Any:
    if isinstance(column, Shared):
        return column.values[int(column.codes[r])]
    return column[r]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 6).flatmap(records), st.dictionaries(texts, documents(), max_size=3))
def test_records_are_written_as_json_writes_their_dicts(
    fields: dict[str, list[Any] | Shared], head: dict[str, Any]
) -> None:
    head.pop("rows", None)
    first = next(iter(fields.values()))
    n = len(first.codes if isinstance(first, Shared) else first)
    rows = [{k: as_written(c, r) for k, c in fields.items()} for r in range(n)]
    document = {**head, "rows": rows}
    got = records_json(
        given_to_orjson(head), "rows", {k: orjson_ready(c) for k, c in fields.items()}
    )
    assert got.encode() == dumps(plain(document))


def orjson_ready(column: list[Any] | Shared) -> list[Any] | Shared:
    if isinstance(column, Shared):
        return Shared([given_to_orjson(v) for v in column.values], column.codes)
    return [given_to_orjson(v) for v in column]


def test_shared_columns_past_one_table() -> None:
    """Two shared columns of 100 values each: more texts than one segment holds."""
    codes = np.arange(300) % 100
    fields: dict[str, list[Any] | Shared] = {
        "a": Shared(list(range(100)), codes), "b": Shared([str(i) for i in range(100)], codes[::-1]),
        "c": ["x,y"] * 300,
    }  # fmt: skip
    rows = [{"a": r % 100, "b": str((299 - r) % 100), "c": "x,y"} for r in range(300)]
    assert records_json({"h": 1}, "rows", fields).encode() == dumps({"h": 1, "rows": rows})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=20), st.integers(0, 4))
def test_rounded_is_pythons_round(values: list[float], digits: int) -> None:
    got = rounded(np.array(values, dtype=np.float64), digits)
    want = [round(v, digits) if np.isfinite(v) else v for v in values]
    assert [repr(x) for x in got] == [repr(x) for x in want]


def test_rounded_at_ties_and_near_them() -> None:
    """Halves and values one ulp either side of them, in days as positions writes them."""
    base = np.array([0.125, 0.135, 2.675, 1.005, 90.0, -0.005, 0.0, 1e7 + 0.005])
    values = np.concatenate([base, np.nextafter(base, np.inf), np.nextafter(base, -np.inf)])
    seconds = np.random.default_rng(0).uniform(0, 9e6, 20000)
    for v in (values, seconds / 86400):
        assert [repr(x) for x in rounded(v, 2)] == [repr(round(float(x), 2)) for x in v]
