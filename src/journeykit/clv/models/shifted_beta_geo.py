"""Shifted-beta-geometric (sBG) for contracts and renewals (Fader & Hardie 2007).

Each customer churns at the end of a period with a constant probability θ ~ Beta(α, β):
P(T = t) = B(α+1, β+t−1)/B(α, β) and S(t) = B(α, β+t)/B(α, β) ("How to Project Customer
Retention", J. Interactive Marketing 21(1), eqs. 4-5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import maximise
from journeykit.clv._scipy import special
from journeykit.clv.errors import RFMError
from journeykit.clv.models._base import Model
from journeykit.clv.rfm import FloatArray


class ShiftedBetaGeoParams(NamedTuple):
    alpha: float
    beta: float


@dataclass(frozen=True, eq=False)
class Renewals:
    """Churn counts by period: ``churned[t-1]`` ended in period t, ``censored[t-1]`` were still
    active after t periods when observation stopped."""

    churned: FloatArray
    censored: FloatArray

    @classmethod
    def from_alive(cls, alive: Sequence[float] | npt.ArrayLike) -> Renewals:
        """From a cohort's active counts at the start (index 0) and after each period."""
        n = np.asarray(alive, dtype=np.float64)
        if n.ndim != 1 or n.size < 2:
            raise RFMError("need the cohort size and at least one later count", column="alive")
        if np.any(np.diff(n) > 0) or np.any(n < 0):
            bad = int(np.argmax((np.r_[0.0, np.diff(n)] > 0) | (n < 0)))
            raise RFMError("active counts must be >= 0 and never grow", column="alive", row=bad)
        censored = np.zeros(n.size - 1)
        censored[-1] = n[-1]
        return cls(-np.diff(n), censored)

    @classmethod
    def from_lifetimes(cls, periods: npt.ArrayLike, churned: npt.ArrayLike) -> Renewals:
        """Per customer: periods observed (>= 1) and whether they churned at the end of the last."""
        t = np.asarray(periods)
        ended = np.asarray(churned, dtype=bool)
        if t.shape != ended.shape or t.ndim != 1:
            raise RFMError("periods and churned must be 1-D and the same length", column="periods")
        bad = (t < 1) | (t != np.floor(t))
        if bad.any():
            raise RFMError(
                f"{t[np.argmax(bad)]!r} is not a whole number >= 1",
                column="periods",
                row=int(np.argmax(bad)),
            )
        ti = t.astype(np.int64)
        top = int(ti.max())
        return cls(
            np.bincount(ti[ended] - 1, minlength=top).astype(np.float64),
            np.bincount(ti[~ended] - 1, minlength=top).astype(np.float64),
        )

    @property
    def customers(self) -> float:
        return float(self.churned.sum() + self.censored.sum())


def read_renewals(path: str | Path) -> Renewals:
    """A CSV with ``alive`` (a cohort's active count at the start, then after each period; one
    row per period) or ``periods, churned`` (one row per customer: periods observed, and 1 when
    they churned at the end of the last, 0 when still active). Errors name file, line, column."""
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except (OSError, ValueError) as exc:
        raise RFMError(f"cannot read renewals: {exc}", path=path) from exc
    df.columns = [str(c).strip() for c in df.columns]
    if "alive" in df.columns:
        columns = ["alive"]
    elif {"periods", "churned"} <= set(df.columns):
        columns = ["periods", "churned"]
    else:
        have = ", ".join(df.columns)
        raise RFMError(
            f"expected a column 'alive', or columns 'periods' and 'churned' (have: {have})",
            path=path,
        )
    numbers = {c: _numbers(df[c], c, path) for c in columns}
    try:
        if "alive" in numbers:
            return Renewals.from_alive(numbers["alive"])
        churned = numbers["churned"]
        bad = (churned != 0) & (churned != 1)
        if bad.any():
            raise RFMError("must be 0 or 1", column="churned", row=int(np.argmax(bad)))
        return Renewals.from_lifetimes(numbers["periods"], churned.astype(bool))
    except RFMError as exc:
        line = None if exc.row is None else exc.row + 2
        raise RFMError(exc.message, column=exc.column, line=line, path=path) from None


def _numbers(values: Any, column: str, path: Path) -> FloatArray:
    import pandas as pd

    parsed: FloatArray = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(parsed)
    if bad.any():
        row = int(np.argmax(bad))
        raise RFMError(
            f"{values.iloc[row]!r} is not a number", column=column, line=row + 2, path=path
        )
    return parsed


def log_likelihood_terms(params: ShiftedBetaGeoParams, data: Renewals) -> tuple[float, FloatArray]:
    """Σ churned_t log P(T=t) + Σ censored_t log S(t), and its log-parameter gradient."""
    sp = special()
    a, b = params
    t = np.arange(1, data.churned.size + 1, dtype=np.float64)
    base = sp.betaln(a, b)
    log_p = sp.betaln(a + 1, b + t - 1) - base
    log_s = sp.betaln(a, b + t) - base
    ll = float(data.churned @ log_p + data.censored @ log_s)
    dig_abt, n = sp.digamma(a + b + t), data.customers
    base_a, base_b = sp.digamma(a) - sp.digamma(a + b), sp.digamma(b) - sp.digamma(a + b)
    grad_a = data.churned @ (sp.digamma(a + 1) - dig_abt) + data.censored @ (
        sp.digamma(a) - dig_abt
    )
    grad_b = data.churned @ (sp.digamma(b + t - 1) - dig_abt) + data.censored @ (
        sp.digamma(b + t) - dig_abt
    )
    grad = np.array([grad_a - n * base_a, grad_b - n * base_b]) * np.asarray(params)
    return ll, grad


class ShiftedBetaGeometric(Model[ShiftedBetaGeoParams]):
    """sBG: heterogeneous constant churn probabilities, for subscriptions and renewals."""

    name: ClassVar[str] = "ShiftedBetaGeometric"
    params_type: ClassVar[type[ShiftedBetaGeoParams]] = ShiftedBetaGeoParams

    def fit(self, data: Renewals) -> Self:
        """Maximum likelihood on churn counts (see Renewals.from_alive / from_lifetimes)."""
        optimum = maximise(
            lambda theta: log_likelihood_terms(ShiftedBetaGeoParams(*np.exp(theta)), data),
            [[0.0, 0.0], [np.log(0.5), np.log(3.0)]],
            names=ShiftedBetaGeoParams._fields,
            customers=data.customers,
            penalizer=self.penalizer,
        )
        self._set_fit(optimum, int(data.customers), None)
        return self

    def survival(self, t: npt.ArrayLike) -> FloatArray:
        """S(t): share of a new cohort still active after t periods (eq. 5)."""
        a, b = self._fitted()
        sp = special()
        return np.asarray(np.exp(sp.betaln(a, b + np.asarray(t, float)) - sp.betaln(a, b)))

    def churn_probability(self, t: npt.ArrayLike) -> FloatArray:
        """P(T = t): share of a new cohort that churns at the end of period t (eq. 4)."""
        a, b = self._fitted()
        sp = special()
        tt = np.asarray(t, float)
        return np.asarray(np.exp(sp.betaln(a + 1, b + tt - 1) - sp.betaln(a, b)))

    def retention_rate(self, t: npt.ArrayLike) -> FloatArray:
        """r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1): rises with t as the churn-prone leave (eq. 8)."""
        a, b = self._fitted()
        tt = np.asarray(t, float)
        return np.asarray((b + tt - 1) / (a + b + tt - 1))

    def discounted_expected_lifetime(self, discount_rate: float) -> float:
        """Σ_{t>=0} S(t)/(1+d)^t = 2F1(1, β; α+β; 1/(1+d)): expected discounted number of
        payments of a new customer paying at the start of each period (Fader & Hardie 2010,
        "Customer-Base Valuation in a Contractual Setting", Marketing Science 29(1), eq. 6)."""
        a, b = self._fitted()
        return float(special().hyp2f1(1.0, b, a + b, 1.0 / (1.0 + discount_rate)))

    def discounted_residual_lifetime(
        self, discount_rate: float, periods: npt.ArrayLike
    ) -> FloatArray:
        """DERL for a customer who has paid in ``periods`` (n >= 1) periods, valued just before
        the renewal decision at the end of period n: (β+n−1)/(α+β+n−1)·2F1(1, β+n; α+β+n;
        1/(1+d)) (Fader & Hardie 2010, eq. 7). Their θ is Beta(α, β+n−1) a posteriori, so this
        is Σ_{k>=0} S(n+k)/S(n−1)/(1+d)^k: the next payment is undiscounted."""
        a, b = self._fitted()
        n = np.asarray(periods, dtype=np.float64)
        if np.any(n < 1) or np.any(n != np.floor(n)):
            raise ValueError("periods must be whole numbers >= 1")
        z = 1.0 / (1.0 + discount_rate)
        return np.asarray(
            (b + n - 1) / (a + b + n - 1) * special().hyp2f1(1.0, b + n, a + b + n, z)
        )
