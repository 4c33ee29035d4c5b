"""The simple CLV formula, each factor shown with how it was computed (DESIGN "CLV, simple").

CLV = average purchase value × purchases per period while a customer × lifespan in periods,
with lifespan = 1 / churn rate per period.

The formula is the one users are taught; what makes it usable is how its two rates are measured.
"Last minus first purchase" as a lifespan is 0 for every one-time buyer and ends every active
customer's life today, so on a young base it says a customer is worth one purchase. Here churn is
the constant rate per period that best explains each customer's purchases *and* silences (the
maximum-likelihood fit of the constant-rate model: purchases at rate λ while a customer, leaving
at rate c, Fader, Hardie & Lee 2005, "A note on deriving the Pareto/NBD model", eq. 3, with one λ
and one c for everyone). A customer silent for much longer than their usual gap counts as most
likely gone, one who bought last week as most likely still here. The two factors are then shown
as plain ratios, which is exactly what the fit makes them (its EM fixed point):

    purchase frequency = repeat purchases / periods spent as customers
    churn rate         = customers (estimated) gone / periods spent as customers

so CLV = average purchase value × repeat purchases / customers gone. It is the value of a new
customer's purchases over their expected lifespan, undiscounted; ``horizon_months`` gives the same
over a horizon with a discount rate, to set beside a model's CLV of the same horizon.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from journeykit.clv.errors import RFMError
from journeykit.clv.value import PERIODS_PER_MONTH

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

    from journeykit.clv.rfm import RFM

PERIOD_NAMES: dict[str, str] = {"H": "hour", "D": "day", "W": "week", "M": "month"}
# Fewer customers than this estimated gone: churn is not measured yet, so neither is a lifespan.
_MIN_GONE = 1.0


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
    """The simple formula for one group of customers (``group`` None: all of them).

    ``clv`` is the lifetime value (None when no churn can be seen yet); ``horizon_clv`` the value
    over ``horizon_months`` discounted at ``discount_rate`` a month, when a horizon was asked for.
    """

    group: str | None
    customers: int
    average_purchase_value: Factor | None
    purchase_frequency: Factor | None
    churn_rate: Factor | None
    lifespan: Factor | None
    clv: float | None
    period: str
    horizon_months: float | None = None
    discount_rate: float | None = None
    horizon_clv: float | None = None
    note: str | None = None
    still_customers: float | None = None  # estimated share still customers at the end

    @property
    def horizon_clv_today(self) -> float | None:
        """The horizon value averaged over today's customers, gone ones included: the figure to
        set beside a model's mean CLV of the same horizon."""
        if self.horizon_clv is None or self.still_customers is None:
            return None
        return self.horizon_clv * self.still_customers

    @property
    def factors(self) -> tuple[Factor, ...]:
        parts = (self.average_purchase_value, self.purchase_frequency, self.churn_rate)
        return tuple(f for f in (*parts, self.lifespan) if f is not None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def row(self) -> dict[str, Any]:
        return {
            "group": "all" if self.group is None else self.group,
            "customers": self.customers,
            "average_purchase_value": _value(self.average_purchase_value),
            "purchase_frequency": _value(self.purchase_frequency),
            "churn_rate": _value(self.churn_rate),
            "lifespan": _value(self.lifespan),
            "clv": self.clv,
            "horizon_clv": self.horizon_clv,
            "still_customers": self.still_customers,
        }

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(f) for f in self.factors])


def _value(factor: Factor | None) -> float | None:
    return None if factor is None else factor.value


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
        return [r.row() for r in (self.overall, *self.groups)]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows())

    def to_polars(self) -> pl.DataFrame:
        from journeykit._optional import require

        frame: pl.DataFrame = require("polars", extra="polars").DataFrame(self.rows())
        return frame

    def _repr_html_(self) -> str:
        return str(self.to_pandas().to_html(index=False, float_format="{:,.4g}".format))


@dataclass(frozen=True)
class ConstantRates:
    """The constant-rate model fitted to a base: λ purchases and c departures per period."""

    purchase_rate: float
    churn_rate: float
    repeat_purchases: float  # Σ x
    gone: float  # Σ P(gone by the end of observation)
    exposure: float  # Σ expected periods spent as a customer


def fit_constant_rates(summary: RFM) -> ConstantRates:
    """Maximum likelihood of one purchase rate λ and one churn rate c for every customer.

    Per customer (x repeat purchases, the last at t_x, observed for T since the first), the
    likelihood is λ^x [c/(λ+c) e^{-(λ+c) t_x} + λ/(λ+c) e^{-(λ+c) T}] (Fader, Hardie & Lee 2005).
    """
    from scipy.optimize import minimize

    from journeykit.clv._optim import single_threaded_blas

    x = summary.frequency.astype(np.float64)
    t, big_t = summary.recency, summary.T
    if not (x > 0).any():
        raise RFMError(
            "no customer bought twice, so staying cannot be told from leaving: the simple formula "
            "needs repeat purchases",
            column="frequency",
        )
    gap = big_t - t
    repeats = float(x.sum())

    def nll(theta: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        lam, mu = np.exp(theta)
        k = lam + mu
        e = np.exp(-k * gap)
        s = mu + lam * e
        ll = repeats * math.log(lam) - x.size * math.log(k) - k * t.sum() + np.log(s).sum()
        d_lam = repeats / lam - x.size / k - t.sum() + (e * (1 - lam * gap) / s).sum()
        d_mu = -x.size / k - t.sum() + ((1 - lam * gap * e) / s).sum()
        return -float(ll), -np.array([d_lam * lam, d_mu * mu])

    start = np.log([max(repeats / max(float(big_t.sum()), 1e-9), 1e-6), 1 / max(big_t.mean(), 1)])
    with single_threaded_blas():
        fit = minimize(nll, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-10})
    lam, mu = (float(v) for v in np.exp(fit.x))
    k = lam + mu
    e = np.exp(-k * gap)
    alive = k * e / (mu + lam * e)  # P(still a customer at T | x, t_x, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        # When gone: left at t_x + a time drawn from Exp(k) truncated to (0, T - t_x).
        left_after = np.where(gap > 0, 1 / k - gap * e / -np.expm1(-k * gap), 0.0)
    exposure = float((t + alive * gap + (1 - alive) * left_after).sum())
    gone = float((1 - alive).sum())
    return ConstantRates(lam, mu, repeats, gone, exposure)


def simple_clv(
    summary: RFM,
    *,
    revenue: npt.ArrayLike | None = None,
    horizon_months: float | None = None,
    discount_rate: float = 0.01,
    group: str | None = None,
) -> SimpleCLV:
    """The simple formula for a base of customers from their RFM summary.

    Parameters
    ----------
    summary
        Frequency, recency and T in one time unit (the period), e.g. from
        ``rfm_from_transactions``; ``summary.time_unit`` names the period (weeks by default).
    revenue
        Per customer: the total value of all their purchases, first included. Without it, the
        average purchase value is that of repeat purchases (``monetary_value``).
    horizon_months, discount_rate
        Also give the value over this many months, discounted at ``discount_rate`` a month (as
        ``discounted_clv``), to compare with a model's CLV of the same horizon.
    """
    code = summary.time_unit or "W"
    if code not in PERIOD_NAMES:
        raise RFMError(f"time unit {code!r} is not one of {', '.join(PERIOD_NAMES)}")
    period = PERIOD_NAMES[code]
    value = _purchase_value(summary, revenue)
    rates = fit_constant_rates(summary)
    frequency = Factor(
        "purchase frequency",
        rates.repeat_purchases / rates.exposure,
        rates.repeat_purchases,
        rates.exposure,
        f"{rates.repeat_purchases:,.0f} repeat purchases / {rates.exposure:,.1f} {period}s "
        f"spent as customers, a {period} while a customer",
    )
    churn = Factor(
        "churn rate",
        rates.gone / rates.exposure,
        rates.gone,
        rates.exposure,
        f"{rates.gone:,.1f} of {len(summary):,} customers estimated gone / "
        f"{rates.exposure:,.1f} {period}s spent as customers (constant-rate model)",
    )
    lifespan: Factor | None = None
    clv: float | None = None
    note = None
    if rates.gone >= _MIN_GONE:
        lifespan = Factor(
            "lifespan",
            1 / churn.value,
            1.0,
            churn.value,
            f"1 / {churn.value:.4g} churn a {period}",
        )
        clv = value.value * frequency.value * lifespan.value
    else:
        note = (
            f"fewer than {_MIN_GONE:g} customer is estimated gone, so no lifespan can be measured "
            "from these purchases yet (the horizon figure still holds)"
        )
    horizon = None
    if horizon_months is not None:
        horizon = _value_over(value.value, frequency.value, churn.value, code, horizon_months,
                              discount_rate)  # fmt: skip
    return SimpleCLV(
        group, len(summary), value, frequency, churn, lifespan, clv, period,
        horizon_months, discount_rate if horizon_months is not None else None, horizon, note,
        1 - rates.gone / len(summary),
    )  # fmt: skip


def _purchase_value(summary: RFM, revenue: npt.ArrayLike | None) -> Factor:
    purchases = summary.frequency.astype(np.float64)
    if revenue is not None:
        money = np.asarray(revenue, dtype=np.float64)
        if money.shape != purchases.shape:
            raise RFMError("needs one revenue total per customer", column="revenue")
        bad = ~np.isfinite(money) | (money < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise RFMError(f"{money[row]!r} is not a number >= 0", column="revenue", row=row)
        total, count = float(money.sum()), float((purchases + 1).sum())
        how = f"{total:,.2f} revenue / {count:,.0f} purchases"
    elif summary.monetary_value is not None:
        total = float((summary.monetary_value * purchases).sum())
        count = float(purchases.sum())
        how = f"{total:,.2f} revenue / {count:,.0f} repeat purchases"
    else:
        raise RFMError("the simple formula needs purchase values", column="monetary_value")
    return Factor("average purchase value", total / count if count else 0.0, total, count, how)


def _value_over(
    value: float, rate: float, churn: float, code: str, months: float, discount_rate: float
) -> float:
    """Expected value of a new customer's purchases in the next ``months``, discounted
    continuously at the rate equivalent to ``discount_rate`` a month."""
    per_month = PERIODS_PER_MONTH[code]
    periods = months * per_month
    decay = churn + math.log1p(discount_rate) / per_month
    if decay <= 0:
        return value * rate * periods
    return value * rate * -math.expm1(-decay * periods) / decay


def simple_clv_by_group(
    summary: RFM,
    groups: npt.ArrayLike,
    *,
    revenue: npt.ArrayLike | None = None,
    horizon_months: float | None = None,
    discount_rate: float = 0.01,
    by: str | None = None,
) -> SimpleCLVByGroup:
    """The simple formula overall and per group label (persona, path, cohort).

    A group whose rates cannot be measured (no repeat buyer in it) keeps its row, with the reason
    in ``note`` and no figures.
    """
    labels = np.asarray(groups)
    if labels.shape != summary.frequency.shape:
        raise RFMError("needs one group label per customer", column="groups")
    money = None if revenue is None else np.asarray(revenue, dtype=np.float64)
    kw: dict[str, Any] = {"horizon_months": horizon_months, "discount_rate": discount_rate}
    overall = simple_clv(summary, revenue=money, **kw)
    parts = []
    for g in np.unique(labels):
        rows = labels == g
        part = summary.select(rows)
        try:
            parts.append(
                simple_clv(part, revenue=None if money is None else money[rows], group=str(g), **kw)
            )
        except RFMError as exc:
            parts.append(_unmeasured(str(g), int(rows.sum()), overall.period, str(exc)))
    return SimpleCLVByGroup(overall, tuple(parts), by)


def _unmeasured(group: str, customers: int, period: str, why: str) -> SimpleCLV:
    return SimpleCLV(group, customers, None, None, None, None, None, period, note=why)
