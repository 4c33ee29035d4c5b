"""Gamma-Gamma spend model (Fader & Hardie 2013, note 025; Fader, Hardie & Lee 2005, JMR 42(4)).

Each transaction value ~ Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the mean of x
values, zbar, then has the density of note 025 eq. 4. Assumes spend is independent of frequency.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import maximise
from journeykit.clv._scipy import special
from journeykit.clv.errors import RFMError
from journeykit.clv.models._base import Model, chunked, dot
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
    params: GammaGammaParams, x: IntArray, m: FloatArray
) -> tuple[float, FloatArray]:
    """Total log density of zbar over repeat buyers and its log-parameter gradient (note 025 eq. 4).

    ``log Γ(px+q) − log Γ(px) − log Γ(q) + q log v + (px−1) log m + px log x − (px+q) log(v + x m)``
    """
    sp = special()
    p, q, v = params
    xs = np.arange(1, int(x.max()) + 1, dtype=np.float64)  # repeat buyers only: x >= 1
    n_x = np.bincount(x, minlength=xs.size + 1)[1:].astype(np.float64)
    px = p * x
    log_xm_v = np.log(v + x * m)
    log_m, log_x = np.log(m), np.log(x)
    per_x = sp.gammaln(p * xs + q) - sp.gammaln(p * xs)
    ll = dot(per_x, n_x) + x.size * (q * np.log(v) - sp.gammaln(q))
    ll += float(np.sum((px - 1) * log_m + px * log_x - (px + q) * log_xm_v))
    dig = sp.digamma(p * xs + q) - sp.digamma(p * xs)
    grad_p = dot(dig * xs, n_x) + dot(x.astype(np.float64), log_m + log_x - log_xm_v)
    grad_q = dot(sp.digamma(p * xs + q), n_x) + x.size * (np.log(v) - sp.digamma(q))
    grad_q -= log_xm_v.sum()
    grad_v = x.size * q / v - float(np.sum((px + q) / (v + x * m)))
    return float(ll), np.array([grad_p, grad_q, grad_v]) * np.asarray(params)


class GammaGamma(Model[GammaGammaParams]):
    """Expected average transaction value per customer, shrunk towards the population mean."""

    name: ClassVar[str] = "GammaGamma"
    params_type: ClassVar[type[GammaGammaParams]] = GammaGammaParams

    def fit(self, rfm: RFM) -> Self:
        """Fit on the repeat buyers (frequency > 0) of an RFM with monetary values."""
        x, m = _repeat(rfm)
        if x.size == 0:
            raise RFMError(
                "no customer has repeat purchases to learn spend from", column="frequency"
            )
        start_v = float(np.log(np.mean(m)))
        optimum = maximise(
            lambda theta: log_likelihood_terms(GammaGammaParams(*np.exp(theta)), x, m),
            [[0.0, 0.0, start_v], [np.log(5.0), np.log(3.0), start_v + 1.0]],
            names=GammaGammaParams._fields,
            customers=float(x.size),
            penalizer=self.penalizer,
        )
        self._set_fit(optimum, int(x.size), rfm.time_unit)
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
