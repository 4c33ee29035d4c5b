"""Gamma-Gamma spend model (Fader & Hardie 2013, note 025; Fader, Hardie & Lee 2005, JMR 42(4)).

Each transaction value ~ Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the mean of x
values, zbar, then has the density of note 025 eq. 4. Assumes spend is independent of frequency.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import LogLik, maximise
from journeykit.clv._scipy import special
from journeykit.clv.errors import RFMError
from journeykit.clv.models._base import Model, check_weights, chunked, dot
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


def log_likelihood_terms(
    params: GammaGammaParams, x: IntArray, m: FloatArray, w: FloatArray | None = None
) -> tuple[float, FloatArray]:
    """Total log density of zbar over repeat buyers and its log-parameter gradient (note 025 eq. 4).

    ``log Γ(px+q) − log Γ(px) − log Γ(q) + q log v + (px−1) log m + px log x − (px+q) log(v + x m)``
    with each customer counted ``w`` times (1 when no weights are given).
    """
    sp = special()
    p, q, v = params
    w = np.ones(x.size) if w is None else w
    total = float(w.sum())
    xs = np.arange(1, int(x.max()) + 1, dtype=np.float64)  # repeat buyers only: x >= 1
    n_x = np.bincount(x, weights=w, minlength=xs.size + 1)[1:].astype(np.float64)
    px = p * x
    log_xm_v = np.log(v + x * m)
    log_m, log_x = np.log(m), np.log(x)
    per_x = sp.gammaln(p * xs + q) - sp.gammaln(p * xs)
    ll = dot(per_x, n_x) + total * (q * np.log(v) - sp.gammaln(q))
    ll += dot(w, (px - 1) * log_m + px * log_x - (px + q) * log_xm_v)
    dig = sp.digamma(p * xs + q) - sp.digamma(p * xs)
    grad_p = dot(dig * xs, n_x) + dot(w * x, log_m + log_x - log_xm_v)
    grad_q = dot(sp.digamma(p * xs + q), n_x) + total * (np.log(v) - sp.digamma(q))
    grad_q -= dot(w, log_xm_v)
    grad_v = total * q / v - dot(w, (px + q) / (v + x * m))
    return float(ll), np.array([grad_p, grad_q, grad_v]) * np.asarray(params)


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
        loglik: LogLik = lambda theta: log_likelihood_terms(  # noqa: E731
            GammaGammaParams(*np.exp(theta)), x, m, w
        )
        starts = [[0.0, 0.0, start_v], [np.log(5.0), np.log(3.0), start_v + 1.0]]
        if q_constraint:
            loglik = _q_above_one(loglik)
            starts = [[0.0, np.log(1.0), start_v], [np.log(5.0), np.log(2.0), start_v + 1.0]]
        customers = float(x.size if w is None else w.sum())
        optimum = maximise(
            loglik,
            starts,
            names=GammaGammaParams._fields,
            customers=customers,
            penalizer=self.penalizer,
        )
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
