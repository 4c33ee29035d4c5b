"""Gamma-Gamma spend model (Fader & Hardie 2013, note 025; Fader, Hardie & Lee 2005, JMR 42(4)).

Each transaction value ~ Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the mean of x
values, zbar, then has the density of note 025 eq. 4. Assumes spend is independent of frequency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import LogLik, maximise
from journeykit.clv._scipy import special
from journeykit.clv.errors import RFMError
from journeykit.clv.models._base import SCREEN_SIZE, Model, check_weights, chunked, dot
from journeykit.clv.rfm import RFM, FloatArray, IntArray


class GammaGammaParams(NamedTuple):
    """p (shape per transaction), q and v (γ in the papers; v as in lifetimes)."""

    p: float
    q: float
    v: float


def _repeat(rfm: RFM) -> tuple[IntArray, FloatArray]:
    if rfm.monetary_value is None:
        raise RFMError("the spend model needs monetary values", column="monetary_value")
    keep = rfm.frequency > 0
    return rfm.frequency[keep], rfm.monetary_value[keep]


@dataclass(frozen=True, eq=False)
class Spend:
    """Repeat buyers' (x, zbar) with what the likelihood needs that does not depend on the
    parameters, computed once per fit instead of once per evaluation."""

    x: IntArray
    m: FloatArray
    w: FloatArray
    wx: FloatArray  # w·x
    xm: FloatArray  # x·m
    log_m: FloatArray
    log_x: FloatArray
    log_mx: FloatArray  # log m + log x
    xs: FloatArray  # 1..max(x): the Gamma functions run once per distinct x
    n_x: FloatArray  # weight per distinct x
    total: float

    @classmethod
    def of(cls, x: IntArray, m: FloatArray, w: FloatArray | None = None) -> Spend:
        w = np.ones(x.size) if w is None else w
        xs = np.arange(1, int(x.max()) + 1, dtype=np.float64)  # repeat buyers only: x >= 1
        n_x = np.bincount(x, weights=w, minlength=xs.size + 1)[1:].astype(np.float64)
        log_m, log_x = np.log(m), np.log(x)
        return cls(x, m, w, w * x, x * m, log_m, log_x, log_m + log_x, xs, n_x, float(w.sum()))

    def subsample(self, size: int) -> Spend | None:
        """Every k-th buyer (deterministic, keeps the mix of frequencies), or None when the
        data is small enough to fit from every start directly."""
        if self.x.size <= 2 * size:
            return None
        pick = slice(None, None, int(np.ceil(self.x.size / size)))
        return Spend.of(self.x[pick], self.m[pick], self.w[pick])

    def terms(self, params: GammaGammaParams) -> tuple[float, FloatArray]:
        sp = special()
        p, q, v = params
        xs, n_x, total, w = self.xs, self.n_x, self.total, self.w
        px = p * self.x
        v_xm = v + self.xm
        log_xm_v = np.log(v_xm)
        per_x = sp.gammaln(p * xs + q) - sp.gammaln(p * xs)
        ll = dot(per_x, n_x) + total * (q * np.log(v) - sp.gammaln(q))
        ll += dot(w, (px - 1) * self.log_m + px * self.log_x - (px + q) * log_xm_v)
        dig = sp.digamma(p * xs + q) - sp.digamma(p * xs)
        grad_p = dot(dig * xs, n_x) + dot(self.wx, self.log_mx - log_xm_v)
        grad_q = dot(sp.digamma(p * xs + q), n_x) + total * (np.log(v) - sp.digamma(q))
        grad_q -= dot(w, log_xm_v)
        grad_v = total * q / v - dot(w, (px + q) / v_xm)
        return float(ll), np.array([grad_p, grad_q, grad_v]) * np.asarray(params)

    def loglik(self) -> LogLik:
        return lambda theta: self.terms(GammaGammaParams(*np.exp(theta)))


def log_likelihood_terms(
    params: GammaGammaParams, x: IntArray, m: FloatArray, w: FloatArray | None = None
) -> tuple[float, FloatArray]:
    """Total log density of zbar over repeat buyers and its log-parameter gradient (note 025 eq. 4).

    ``log Γ(px+q) − log Γ(px) − log Γ(q) + q log v + (px−1) log m + px log x − (px+q) log(v + x m)``
    with each customer counted ``w`` times (1 when no weights are given).
    """
    return Spend.of(x, m, w).terms(params)


def _q_above_one(loglik: LogLik) -> LogLik:
    """The same likelihood in (log p, log(q − 1), log v): every q the optimiser can reach is
    > 1, so the mean spend pv/(q−1) is finite (lifetimes' ``q_constraint``). The chain rule
    turns ∂/∂log q into ∂/∂log(q−1) by the factor (q−1)/q."""

    def shifted(theta: FloatArray) -> tuple[float, FloatArray]:
        q_minus_one = np.exp(theta[1])
        natural = theta.copy()
        natural[1] = np.log1p(q_minus_one)
        ll, grad = loglik(natural)
        grad = grad.copy()
        grad[1] *= q_minus_one / (1 + q_minus_one)
        return ll, grad

    return shifted


class GammaGamma(Model[GammaGammaParams]):
    """Expected average transaction value per customer, shrunk towards the population mean."""

    name: ClassVar[str] = "GammaGamma"
    params_type: ClassVar[type[GammaGammaParams]] = GammaGammaParams

    def fit(
        self,
        rfm: RFM,
        *,
        weights: npt.ArrayLike | None = None,
        q_constraint: bool = False,
    ) -> Self:
        """Fit on the repeat buyers (frequency > 0) of an RFM with monetary values.

        ``weights``: customers each row stands for. ``q_constraint``: search only q > 1 (as
        lifetimes' option), for data where the unconstrained optimum has an infinite mean.
        """
        x, m = _repeat(rfm)
        w = None
        if weights is not None:
            w = check_weights(weights, len(rfm))[rfm.frequency > 0]
        if x.size == 0:
            raise RFMError(
                "no customer has repeat purchases to learn spend from", column="frequency"
            )
        start_v = float(np.log(np.mean(m)))
        data = Spend.of(x, m, w)
        screen = data.subsample(SCREEN_SIZE)  # starts compared on a subsample, then polished
        shift = _q_above_one if q_constraint else (lambda loglik: loglik)
        starts = [[0.0, 0.0, start_v], [np.log(5.0), np.log(3.0), start_v + 1.0]]
        if q_constraint:
            starts = [[0.0, np.log(1.0), start_v], [np.log(5.0), np.log(2.0), start_v + 1.0]]
        optimum = maximise(
            shift(data.loglik()),
            starts,
            names=GammaGammaParams._fields,
            customers=data.total,
            penalizer=self.penalizer,
            screen=None if screen is None else (shift(screen.loglik()), screen.total),
        )
        customers = data.total
        self._set_fit(optimum, round(customers), rfm.time_unit)
        if q_constraint:  # the optimiser's second coordinate is log(q − 1); the covariance's
            # delta-method factor exp(θ) = q − 1 is already ∂q/∂θ, so only q itself moves
            self.params_ = self.params_._replace(q=self.params_.q + 1.0)
        return self

    def expected_average_value(
        self, frequency: npt.ArrayLike, monetary_value: npt.ArrayLike
    ) -> FloatArray:
        """E[M | x, zbar] = (q−1)/(px+q−1)·pv/(q−1) + px/(px+q−1)·zbar (note 025 eq. 5).

        A weighted mean of the population mean pv/(q−1) and the customer's own mean; for x = 0 it
        is the population mean. Needs q > 1.
        """
        p, q, v = self._fitted()
        x, m = np.broadcast_arrays(np.asarray(frequency, float), np.asarray(monetary_value, float))
        return chunked(
            lambda xx, mm: p * (v + xx * mm) / (p * xx + q - 1), np.ravel(x), np.ravel(m)
        )

    def population_mean_value(self) -> float:
        """E[Z] = pv/(q−1): the mean transaction value across customers (needs q > 1)."""
        p, q, v = self._fitted()
        return float(p * v / (q - 1))
