"""Money and checks built on a fitted transaction model: discounted CLV and the holdout test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from journeykit.clv.models._base import (
    CountingModel,
    chunks,
    distinct_customers,
    mostly_duplicates,
)
from journeykit.clv.rfm import RFM, FloatArray

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.clv.models.gamma_gamma import GammaGamma
    from journeykit.clv.transactions import CalibrationHoldout

# Model time units per month, as lifetimes' customer_lifetime_value.
PERIODS_PER_MONTH: dict[str, float] = {"H": 30 * 24, "D": 30.0, "W": 4.345, "M": 1.0}


# What predicts purchases: BG/NBD, MBG/NBD and Pareto/NBD share this base (one interface).
TransactionModel = CountingModel[Any]


@dataclass(frozen=True, eq=False)
class CLVResult:
    """Discounted CLV per customer, with the two ingredients that make it."""

    customer_id: npt.NDArray[Any] | None
    expected_purchases: FloatArray  # undiscounted, over the whole horizon
    expected_value: FloatArray  # Gamma-Gamma expected average transaction value
    clv: FloatArray
    horizon_months: int
    discount_rate: float  # per month
    time_unit: str

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        df = pd.DataFrame(
            {
                "expected_purchases": self.expected_purchases,
                "expected_value": self.expected_value,
                "clv": self.clv,
            }
        )
        if self.customer_id is not None:
            df.insert(0, "customer_id", self.customer_id)
        return df

    def to_dict(self) -> dict[str, Any]:
        return {
            "horizon_months": self.horizon_months,
            "discount_rate": self.discount_rate,
            "time_unit": self.time_unit,
            "customers": int(self.clv.size),
            "total_clv": float(self.clv.sum()),
            "mean_clv": float(self.clv.mean()) if self.clv.size else 0.0,
        }


def discounted_clv(
    transaction_model: TransactionModel,
    spend_model: GammaGamma,
    rfm: RFM,
    *,
    horizon: int = 12,
    discount_rate: float = 0.01,
    time_unit: str = "D",
) -> CLVResult:
    """Σ_{i=1..horizon} E[purchases in month i] × E[value] / (1 + d)^i, per customer.

    As lifetimes' ``customer_lifetime_value``: ``horizon`` in months, ``discount_rate`` per month,
    ``time_unit`` the unit of the RFM the model was fitted on (H, D, W or M; a month is 30 days or
    4.345 weeks). Computed in chunks, so memory stays flat for millions of customers.
    """
    if time_unit not in PERIODS_PER_MONTH:
        raise ValueError(
            f"time_unit must be one of {', '.join(PERIODS_PER_MONTH)}, not {time_unit!r}"
        )
    if rfm.monetary_value is None:
        from journeykit.clv.errors import RFMError

        raise RFMError("discounted CLV needs monetary values", column="monetary_value")
    value = spend_model.expected_average_value(rfm.frequency, rfm.monetary_value)
    months = np.arange(1, horizon + 1, dtype=np.float64)
    spans, divisors = months * PERIODS_PER_MONTH[time_unit], (1 + discount_rate) ** months
    purchases, discounted = _per_distinct_customer(
        lambda x, t_x, age: _discounted_purchases(transaction_model, x, t_x, age, spans, divisors),
        rfm,
    )
    clv = np.multiply(discounted, value, out=discounted)
    return CLVResult(rfm.customer_id, purchases, value, clv, horizon, discount_rate, time_unit)


def _discounted_purchases(
    model: TransactionModel,
    x: FloatArray,
    t_x: FloatArray,
    age: FloatArray,
    spans: FloatArray,
    divisors: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Expected purchases over the last span and Σ_i (purchases in month i) / divisor_i."""
    discounted, previous = np.zeros(x.size), np.zeros(x.size)
    by_horizon = model.expected_purchases_by_horizon(x, t_x, age, horizons=spans.tolist())
    for cumulative, divisor in zip(by_horizon.T, divisors, strict=True):
        discounted += (cumulative - previous) / divisor
        previous = cumulative
    return previous, discounted


def _per_distinct_customer(
    fn: Callable[[FloatArray, FloatArray, FloatArray], tuple[FloatArray, FloatArray]], rfm: RFM
) -> tuple[FloatArray, FloatArray]:
    """``fn`` of (frequency, recency, T), evaluated once per distinct customer history when
    histories repeat (times in whole days or weeks: a million customers have a few hundred
    thousand histories), else in chunks so memory stays flat for millions of customers."""
    x, t_x, age = rfm.frequency, rfm.recency, rfm.T
    if x.size > 1000 and mostly_duplicates(x, t_x, age):
        xs, ts, ages, _, inverse = distinct_customers(x, t_x, age, inverse=True)
        first, second = fn(xs.astype(np.float64), ts, ages)
        return first[inverse], second[inverse]
    n = len(rfm)
    out = np.empty(n), np.empty(n)
    for part in chunks(n):
        out[0][part], out[1][part] = fn(x[part].astype(np.float64), t_x[part], age[part])
    return out


@dataclass(frozen=True, eq=False)
class CustomerValue:
    """Per customer: expected purchases over the horizon, P(alive) and, with purchase values,
    Gamma-Gamma's expected spend and the discounted CLV. What ``clv predict`` prints and what
    ``clv_by_journey`` averages per group."""

    expected_purchases: FloatArray
    probability_alive: FloatArray
    value: CLVResult | None  # None without monetary values
    spend_model: GammaGamma | None


def customer_value(
    transactions: TransactionModel,
    rfm: RFM,
    *,
    horizon: int = 12,
    discount_rate: float = 0.01,
    penalizer: float = 0.0,
    time_unit: str = "D",
) -> CustomerValue:
    """Predict with a fitted transaction model; with monetary values also fit Gamma-Gamma and
    discount (``discounted_clv``). Refuses a spend model whose mean spend is not finite (q <= 1)."""
    from journeykit.clv.errors import RFMError
    from journeykit.clv.models.gamma_gamma import GammaGamma

    if time_unit not in PERIODS_PER_MONTH:
        raise RFMError(f"time unit must be one of {', '.join(PERIODS_PER_MONTH)}", column="T")
    span = horizon * PERIODS_PER_MONTH[time_unit]
    alive = transactions.probability_alive(rfm)
    if rfm.monetary_value is None or not (rfm.frequency > 0).any():
        purchases = transactions.expected_purchases(rfm, horizon=span)
        return CustomerValue(purchases, alive, None, None)
    spend = GammaGamma(penalizer=penalizer).fit(rfm)
    if spend.params_.q <= 1:
        raise RFMError(
            f"the spend model's q is {spend.params_.q:.3g} <= 1, so the mean spend is not finite; "
            "try a penalizer (e.g. 0.01) or more repeat buyers"
        )
    value = discounted_clv(
        transactions, spend, rfm, horizon=horizon, discount_rate=discount_rate,
        time_unit=time_unit,
    )  # fmt: skip
    return CustomerValue(value.expected_purchases, alive, value, spend)


@dataclass(frozen=True)
class HoldoutBucket:
    frequency: str  # "0", "1", ..., "7+"
    customers: int
    actual_mean: float
    predicted_mean: float


@dataclass(frozen=True)
class HoldoutCheck:
    """Mean predicted vs actual holdout purchases by calibration frequency (FHL 2005, Fig. 4)."""

    model: str
    duration_holdout: float
    buckets: tuple[HoldoutBucket, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "duration_holdout": self.duration_holdout,
            "buckets": [vars(b) for b in self.buckets],
        }

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([vars(b) for b in self.buckets])


def holdout_check(
    model: TransactionModel, data: CalibrationHoldout, *, top_bucket: int = 7
) -> HoldoutCheck:
    """Compare conditional expectations with what customers did in the holdout period."""
    cal = data.calibration
    predicted = model.expected_purchases_at(
        cal.frequency, cal.recency, cal.T, horizon=data.duration_holdout
    )
    bucket = np.minimum(cal.frequency, top_bucket)
    rows = []
    for b in range(top_bucket + 1):
        sel = bucket == b
        if not sel.any():
            continue
        label = f"{b}+" if b == top_bucket else str(b)
        rows.append(
            HoldoutBucket(
                label,
                int(sel.sum()),
                float(data.frequency_holdout[sel].mean()),
                float(predicted[sel].mean()),
            )
        )
    return HoldoutCheck(model.name, data.duration_holdout, tuple(rows))
