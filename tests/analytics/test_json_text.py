"""Results that write their JSON column by column write exactly ``json.dumps(indent=2)``'s text."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.analytics.results import (
    json_floats,
    json_nested,
    json_objects,
    json_strings,
    json_with_rows,
    rounded,
)

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ['"', "\\", "{}", "{0}", "}{", "\n", "é", "\u2028", ""]
)
nested = st.lists(
    st.fixed_dictionaries({"type": texts, "milestones": st.lists(texts, max_size=3)}), max_size=3
)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(texts, min_size=3, max_size=3, unique=True),
    rows=st.lists(
        st.tuples(st.none() | texts, st.floats(allow_nan=True, allow_infinity=True), nested),
        max_size=6,
    ),
    head=st.dictionaries(texts, texts | st.integers(), max_size=3),
)
def test_columns_write_json_dumps_text(
    keys: list[str], rows: list[tuple[str | None, float, Any]], head: dict[str, Any]
) -> None:
    a, b, c = keys
    head = {k: v for k, v in head.items() if k != "customers"}
    objects = [{a: s, b: f, c: n} for s, f, n in rows]
    columns = {
        a: json_strings([s for s, _, _ in rows]),
        b: json_floats([f for _, f, _ in rows]),
        c: [json_nested(n, 6) for _, _, n in rows],
    }
    got = json_with_rows(head, "customers", json_objects(columns))
    assert got == json.dumps({**head, "customers": objects}, indent=2, ensure_ascii=False)


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
