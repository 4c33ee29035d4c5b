"""Value at stake (DESIGN "Value at stake"): customers affected x the difference in expected CLV
between the customers who got past a point of the journey and those who did not.

Expected CLV per customer comes from the one CLV pipeline (``clv.journey``), handed in as
:class:`CustomerValues`; a customer with no purchase yet is worth 0 there, because the models
value repeat purchases of customers who bought. The interval is the sampling uncertainty of the
difference of the two means (Welch's t interval, unequal variances): it says how sure the
difference is on this many customers, not how good the CLV model is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class CustomerValues:
    """Expected CLV per customer (``clv.journey.clv_by_journey`` or the simple formula).

    ``source`` says which, as shown next to every value at stake.
    """

    customer_ids: np.ndarray
    values: np.ndarray
    source: str

    def of(self, ids: np.ndarray) -> np.ndarray:
        """The value of each of ``ids``: 0 for a customer the pipeline does not list."""
        where = pd.Index(self.customer_ids).get_indexer(pd.Index(ids))
        out = np.zeros(len(ids), dtype=np.float64)
        found = where >= 0
        out[found] = self.values[where[found]]
        return out


@dataclass(frozen=True)
class ValueAtStake:
    """``affected`` x (mean CLV of those who got past - mean CLV of the affected)."""

    affected: int
    got_past: int
    mean_got_past: float
    mean_affected: float
    difference: float
    low: float | None  # 95% interval of the difference; None with fewer than 2 on a side
    high: float | None

    @property
    def total(self) -> float:
        return self.affected * self.difference

    @property
    def total_low(self) -> float | None:
        return None if self.low is None else self.affected * self.low

    @property
    def total_high(self) -> float | None:
        return None if self.high is None else self.affected * self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "value_at_stake": self.total,
            "low": self.total_low,
            "high": self.total_high,
            "clv_difference": self.difference,
            "clv_difference_low": self.low,
            "clv_difference_high": self.high,
            "mean_clv_got_past": self.mean_got_past,
            "mean_clv_affected": self.mean_affected,
            "got_past": self.got_past,
        }


def value_at_stake(got_past: np.ndarray, affected: np.ndarray) -> ValueAtStake | None:
    """The value at stake from the CLV of the customers on each side; None when nobody got past
    (there is nothing to compare with)."""
    if got_past.size == 0 or affected.size == 0:
        return None
    diff = float(got_past.mean() - affected.mean())
    low, high = welch_interval(got_past, affected)
    return ValueAtStake(
        int(affected.size), int(got_past.size), float(got_past.mean()), float(affected.mean()),
        diff, low, high,
    )  # fmt: skip


def welch_interval(
    a: np.ndarray, b: np.ndarray, level: float = 0.95
) -> tuple[float | None, float | None]:
    """Welch's t interval for mean(a) - mean(b); (None, None) with fewer than 2 on a side."""
    if a.size < 2 or b.size < 2:
        return None, None
    from scipy import stats

    diff = float(a.mean() - b.mean())
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return diff - half, diff + half
