"""The simple formula, computed by hand."""

from __future__ import annotations

import pytest

from journeykit.clv import RFMError, simple_clv, simple_clv_by_group


def test_simple_clv_by_hand() -> None:
    # 3 customers over 2 years: 6 purchases worth 600 in total; lifespans 1, 2 and 3 years
    got = simple_clv([1, 2, 3], [100.0, 200.0, 300.0], [1.0, 2.0, 3.0], periods_observed=2)
    assert got.average_purchase_value.value == 100.0
    assert got.purchase_frequency.value == 1.0  # 6 purchases / 3 customers / 2 years
    assert got.lifespan.value == 2.0
    assert got.clv == 200.0
    assert got.average_purchase_value.explanation == "600.00 revenue / 6 purchases"
    assert got.to_dict()["purchase_frequency"]["denominator"] == 6.0
    assert list(got.to_pandas().name) == [
        "average purchase value",
        "purchase frequency",
        "average lifespan",
    ]


def test_simple_clv_by_group() -> None:
    got = simple_clv_by_group(
        [1, 2, 3, 4],
        [10.0, 20.0, 30.0, 80.0],
        [1.0, 1.0, 2.0, 2.0],
        ["a", "a", "b", "b"],
        periods_observed=1,
    )
    assert [g.group for g in got.groups] == ["a", "b"]
    a, b = got.groups
    assert a.clv == pytest.approx(10.0 * 1.5 * 1.0)
    assert b.clv == pytest.approx(110 / 7 * 3.5 * 2.0)
    assert got.to_pandas().shape == (3, 6)


def test_simple_clv_rejects_negative_revenue() -> None:
    with pytest.raises(RFMError, match="row 1, column 'revenue'"):
        simple_clv([1, 1], [5.0, -1.0], [1.0, 1.0], periods_observed=1)
