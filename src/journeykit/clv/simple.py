"""The simple CLV formula, each factor shown with how it was computed (DESIGN "CLV, simple").

CLV = average purchase value × purchases per customer per period × average lifespan in periods.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from journeykit.clv.errors import RFMError

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl


@dataclass(frozen=True)
class Factor:
    """One factor of the formula: its value, the numbers behind it and a plain explanation."""

    name: str
    value: float
    numerator: float
    denominator: float
    explanation: str


@dataclass(frozen=True)
class SimpleCLV:
    group: str | None
    customers: int
    average_purchase_value: Factor
    purchase_frequency: Factor
    lifespan: Factor
    clv: float
    period: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        factors = (self.average_purchase_value, self.purchase_frequency, self.lifespan)
        return pd.DataFrame([asdict(f) for f in factors])


@dataclass(frozen=True)
class SimpleCLVByGroup:
    overall: SimpleCLV
    groups: tuple[SimpleCLV, ...]
    by: str | None = None  # what the groups are: persona, path, cohort...

    def to_dict(self) -> dict[str, Any]:
        return {
            "by": self.by,
            "overall": self.overall.to_dict(),
            "groups": [g.to_dict() for g in self.groups],
        }

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "group": "all" if r.group is None else r.group,
                "customers": r.customers,
                "average_purchase_value": r.average_purchase_value.value,
                "purchase_frequency": r.purchase_frequency.value,
                "lifespan": r.lifespan.value,
                "clv": r.clv,
            }
            for r in (self.overall, *self.groups)
        ]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_polars(self) -> pl.DataFrame:
        from journeykit._optional import require

        frame: pl.DataFrame = require("polars", extra="polars").DataFrame(self.rows())
        return frame

    def _repr_html_(self) -> str:
        return str(self.to_pandas().to_html(index=False, float_format="{:,.4g}".format))


def simple_clv(
    purchases: npt.ArrayLike,
    revenue: npt.ArrayLike,
    lifespan: npt.ArrayLike,
    *,
    periods_observed: float,
    period: str = "year",
    group: str | None = None,
) -> SimpleCLV:
    """The simple formula from per-customer totals.

    Parameters
    ----------
    purchases, revenue
        Per customer: number of purchases and their total value over the observed window.
    lifespan
        Per customer: how long they stayed a customer, in ``period`` units (e.g. last minus first
        purchase, or contract length).
    periods_observed
        Length of the observed window in ``period`` units; frequency is purchases per customer per
        period over this window.
    """
    n_purchases = np.asarray(purchases, dtype=np.float64)
    money = np.asarray(revenue, dtype=np.float64)
    life = np.asarray(lifespan, dtype=np.float64)
    _check(n_purchases, money, life, periods_observed)
    customers, total_purchases, total_revenue = n_purchases.size, n_purchases.sum(), money.sum()
    value = Factor(
        "average purchase value",
        total_revenue / total_purchases if total_purchases else 0.0,
        float(total_revenue),
        float(total_purchases),
        f"{total_revenue:,.2f} revenue / {total_purchases:,.0f} purchases",
    )
    per_customer = total_purchases / customers / periods_observed
    frequency = Factor(
        "purchase frequency",
        float(per_customer),
        float(total_purchases),
        float(customers * periods_observed),
        f"{total_purchases:,.0f} purchases / {customers:,} customers"
        f" / {periods_observed:g} {period}s",
    )
    span = Factor(
        "average lifespan",
        float(life.mean()),
        float(life.sum()),
        float(customers),
        f"{life.sum():,.2f} {period}s of customer life / {customers:,} customers",
    )
    return SimpleCLV(
        group, customers, value, frequency, span, value.value * frequency.value * span.value, period
    )


def simple_clv_by_group(
    purchases: npt.ArrayLike,
    revenue: npt.ArrayLike,
    lifespan: npt.ArrayLike,
    groups: npt.ArrayLike,
    *,
    periods_observed: float,
    period: str = "year",
) -> SimpleCLVByGroup:
    """The simple formula per group label (persona, path, cohort) and overall."""
    labels = np.asarray(groups)
    arrays = [np.asarray(a, dtype=np.float64) for a in (purchases, revenue, lifespan)]
    if labels.shape != arrays[0].shape:
        raise RFMError("needs one group label per customer", column="groups")
    kw: dict[str, Any] = {"periods_observed": periods_observed, "period": period}
    overall = simple_clv(*arrays, **kw)
    parts = tuple(
        simple_clv(*(a[labels == g] for a in arrays), group=str(g), **kw) for g in np.unique(labels)
    )
    return SimpleCLVByGroup(overall, parts)


def _check(purchases: Any, revenue: Any, lifespan: Any, periods_observed: float) -> None:
    for name, a in (("purchases", purchases), ("revenue", revenue), ("lifespan", lifespan)):
        if a.ndim != 1 or a.shape != purchases.shape:
            raise RFMError("needs one value per customer, aligned with purchases", column=name)
        bad = ~np.isfinite(a) | (a < 0)
        if bad.any():
            raise RFMError(
                f"{a[np.argmax(bad)]!r} is not a number >= 0", column=name, row=int(np.argmax(bad))
            )
    if purchases.size == 0:
        raise RFMError("no customers", column="purchases")
    if not periods_observed > 0:
        raise RFMError("periods_observed must be > 0", column="periods_observed")
