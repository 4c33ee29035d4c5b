"""The value of getting past a milestone: the expected CLV of customers who reached it minus that
of those who did not (DESIGN "Value at stake").

Both groups are taken among the customers who reached ``among`` (the step before, so the
comparison is between people who stood at the same place). A group's expected CLV per customer
is the share of it that bought times the simple formula's value over the horizon for its
buyers (averaged over today's customers, gone ones included), so a group that rarely buys is
worth little however much its few buyers spend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from journeykit.analytics.milestones import MilestoneFrame, arrow_ids, as_text
from journeykit.clv.errors import RFMError
from journeykit.clv.journey import JourneyCustomers
from journeykit.clv.simple import simple_clv


@dataclass(frozen=True)
class GroupWorth:
    customers: int
    buyers: int
    value_per_buyer: float | None  # the horizon value for the group's buyers
    expected_clv: float | None  # per customer of the group

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class ValueGap:
    milestone: str
    among: str | None
    passed: GroupWorth
    not_passed: GroupWorth
    horizon_months: float
    note: str = ""

    @property
    def gap(self) -> float | None:
        a, b = self.passed.expected_clv, self.not_passed.expected_clv
        return None if a is None or b is None else a - b

    def to_dict(self) -> dict[str, Any]:
        return {
            "milestone": self.milestone,
            "among": self.among,
            "passed": self.passed.to_dict(),
            "not_passed": self.not_passed.to_dict(),
            "gap": self.gap,
            "horizon_months": self.horizon_months,
            "note": self.note,
        }


def reached(frame: MilestoneFrame, milestone: str) -> np.ndarray:
    """Per customer of the frame: did they ever reach ``milestone``."""
    code = [m.id for m in frame.journey.milestones].index(milestone)
    out = np.zeros(frame.customers, dtype=bool)
    out[frame.cust[frame.milestone == code]] = True
    return out


def buyer_rows(data: JourneyCustomers, frame: MilestoneFrame) -> np.ndarray:
    """Per customer of the frame: their row in ``data``'s summary (-1: never bought)."""
    buyers = data.summary.customer_id
    if buyers is None:
        return np.full(frame.customers, -1, dtype=np.int64)
    if data.log_rows is not None and data.log_ids is arrow_ids(frame):  # made from this log
        out = np.full(frame.customers, -1, dtype=np.int64)
        out[data.log_rows] = np.arange(data.log_rows.size)
        return out
    found = pc.index_in(arrow_ids(frame), value_set=as_text(buyers))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def value_gap(
    data: JourneyCustomers,
    frame: MilestoneFrame,
    milestone: str,
    *,
    among: str | None = None,
    horizon_months: float,
    discount_rate: float = 0.01,
    buyer_of: np.ndarray | None = None,
) -> ValueGap:
    """Expected CLV per customer of those past ``milestone`` minus those not, among ``among``.

    ``buyer_of``: :func:`buyer_rows` of ``data`` and ``frame``, when gaps at several milestones
    are measured on one log.
    """
    population = reached(frame, among) if among is not None else np.ones(frame.customers, bool)
    passed = reached(frame, milestone) & population
    if buyer_of is None:
        buyer_of = buyer_rows(data, frame)
    notes: list[str] = []
    worth = []
    everyone = np.arange(len(data), dtype=np.int64)
    base: list[float | None] = []  # all buyers' value, fitted only when a group needs it
    for mask, name in ((passed, "past"), (population & ~passed, "not past")):
        rows = buyer_of[mask]
        rows = rows[rows >= 0]
        size = int(mask.sum())
        per_buyer = None
        if size and rows.size:
            per_buyer = _per_buyer(data, rows, horizon_months, discount_rate, name, [])
            if per_buyer is None and not base:
                base.append(_per_buyer(data, everyone, horizon_months, discount_rate, "all", notes))
            if per_buyer is None and base[0] is not None:
                notes.append(f"buyers {name} it: too few repeat purchases, valued as all buyers")
                per_buyer = base[0]
        worth.append(_worth(size, rows.size, per_buyer, name, notes))
    return ValueGap(milestone, among, worth[0], worth[1], horizon_months, "; ".join(notes))


def _worth(
    customers: int, buyers: int, per_buyer: float | None, name: str, notes: list[str]
) -> GroupWorth:
    if customers == 0:
        notes.append(f"no customers {name} it")
        return GroupWorth(0, 0, None, None)
    if buyers == 0:
        return GroupWorth(customers, 0, None, 0.0)
    if per_buyer is None:
        return GroupWorth(customers, buyers, None, None)
    return GroupWorth(customers, buyers, per_buyer, per_buyer * buyers / customers)


def _per_buyer(
    data: JourneyCustomers,
    rows: np.ndarray,
    horizon_months: float,
    discount_rate: float,
    name: str,
    notes: list[str],
) -> float | None:
    """The simple formula's horizon value for these buyers (None when it cannot be measured)."""
    if data.revenue is None:
        notes.append("the purchase events carry no value")
        return None
    try:
        simple = simple_clv(
            data.summary.select(rows),
            revenue=data.revenue[rows],
            horizon_months=horizon_months,
            discount_rate=discount_rate,
        )
    except RFMError as exc:
        notes.append(f"buyers {name}: {exc}")
        return None
    return simple.horizon_clv_today
