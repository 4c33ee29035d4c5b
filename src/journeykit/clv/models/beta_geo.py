"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).

Both: purchases at a Poisson rate λ ~ Gamma(r, α) while alive; a customer drops out with
probability p ~ Beta(a, b) right after a repeat purchase (BG/NBD) or also right after the first
one (MBG/NBD). The two differ only by a shift ``k`` of the Beta arguments (0 or 1), so one set of
functions serves both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import LogLik, maximise
from journeykit.clv._scipy import special
from journeykit.clv.models._base import (
    CountingModel,
    Summary,
    broadcast_rfm,
    chunked,
    chunks,
    distinct_customers,
    dot,
    mostly_duplicates,
)
from journeykit.clv.rfm import RFM, FloatArray, IntArray


class BetaGeoParams(NamedTuple):
    """BG/NBD and MBG/NBD parameters, named as in the papers (α in the RFM time unit)."""

    r: float
    alpha: float
    a: float
    b: float


def _beta_terms(
    a: float, b: float, xs: FloatArray, k: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """log B(a, b+x+k)/B(a,b) and log B(a+1, b+x+k-1)/B(a,b) (−inf where x + k = 0)."""
    sp = special()
    base = sp.betaln(a, b)
    first = sp.betaln(a, b + xs + k) - base
    second = np.full_like(xs, -np.inf)
    has = xs + k >= 1
    second[has] = sp.betaln(a + 1, b + xs[has] + k - 1) - base
    return first, second, has.astype(np.float64)


def log_likelihood_terms(params: BetaGeoParams, d: Summary, k: int) -> tuple[float, FloatArray]:
    """Total log-likelihood and its gradient in log-parameters (FHL 2005 eq. 6; MBG eq. 3).

    Per customer: ``log Γ(r+x)α^r/Γ(r) + log[B1·(α+T)^-(r+x) + B2·(α+t_x)^-(r+x)]``, written as
    ``… + L1 + softplus(L2 − L1)``; Gamma/Beta functions run once per distinct x.
    """
    sp = special()
    r, alpha, a, b = params
    xs = d.x_domain
    first, second, has = _beta_terms(a, b, xs, k)
    log_t, log_tx = np.log(alpha + d.T), np.log(alpha + d.t_x)
    rx = r + d.xf
    gap = (second - first)[d.x] - rx * (log_tx - log_t)  # log(term2 / term1)
    p2 = sp.expit(gap)  # share of the likelihood from "dropped out after the last purchase"
    w, wx = d.weight, d.weight_by_x
    per_x = sp.gammaln(r + xs) - sp.gammaln(r) + r * np.log(alpha) + first
    ll = dot(per_x, wx) - dot(w, rx * log_t) + dot(w, np.logaddexp(0.0, gap))
    s2 = d.by_x(w * p2)
    s1 = wx - s2
    grad_r = dot(sp.digamma(r + xs) - sp.digamma(r) + np.log(alpha), wx)
    grad_r -= dot(w, log_t + p2 * (log_tx - log_t))
    inv_t, inv_tx = 1.0 / (alpha + d.T), 1.0 / (alpha + d.t_x)
    grad_alpha = r / alpha * d.customers - dot(w, rx * (inv_t + p2 * (inv_tx - inv_t)))
    dig_ab = sp.digamma(a + b + xs + k)
    grad_a = dot(sp.digamma(a) - dig_ab, s1) + dot(sp.digamma(a + 1) - dig_ab, s2)
    grad_b = dot(sp.digamma(b + xs + k) - dig_ab, s1)
    grad_b += dot(_masked_digamma(b + xs + k - 1, has) - dig_ab, s2)
    total = d.customers
    grad_a -= (sp.digamma(a) - sp.digamma(a + b)) * total
    grad_b -= (sp.digamma(b) - sp.digamma(a + b)) * total
    grad = np.array([grad_r, grad_alpha, grad_a, grad_b]) * np.asarray(params)
    return ll, grad


def _masked_digamma(values: FloatArray, mask: FloatArray) -> FloatArray:
    out = np.zeros_like(values)
    on = mask > 0
    out[on] = special().digamma(values[on])
    return out


def individual_log_likelihood(
    params: BetaGeoParams, x: FloatArray, t_x: FloatArray, age: FloatArray, k: int = 0
) -> FloatArray:
    """Per-customer log-likelihood (for checks and model comparison), same formula as the fit."""
    sp = special()
    r, alpha, a, b = params
    first, second, _ = _beta_terms(a, b, x, k)
    head = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(alpha)
    l1 = first - (r + x) * np.log(alpha + age)
    l2 = second - (r + x) * np.log(alpha + t_x)
    return np.asarray(head + np.logaddexp(l1, l2), dtype=np.float64)


class BetaGeo(CountingModel[BetaGeoParams]):
    """BG/NBD: buy at a Poisson rate while alive; after each repeat purchase, drop out with prob. p.

    Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2).
    """

    name: ClassVar[str] = "BetaGeo"
    params_type: ClassVar[type[BetaGeoParams]] = BetaGeoParams
    _shift: ClassVar[int] = 0

    def fit(self, rfm: RFM, *, weights: npt.ArrayLike | None = None) -> Self:
        """Maximum likelihood on (frequency, recency, T); see ``diagnosis_`` for convergence.

        ``weights``: how many customers each row stands for (aggregated data)."""
        d = Summary.from_rfm(rfm, weights)
        k = self._shift

        def loglik_on(data: Summary) -> LogLik:
            return lambda theta: log_likelihood_terms(BetaGeoParams(*np.exp(theta)), data, k)

        screen = d.screen
        optimum = maximise(
            loglik_on(d),
            _starts(d),
            names=BetaGeoParams._fields,
            customers=d.customers,
            penalizer=self.penalizer,
            screen=None if screen is None else (loglik_on(screen), screen.customers),
        )
        self._set_fit(optimum, round(d.customers), rfm.time_unit)
        return self

    def log_likelihood(self, rfm: RFM) -> FloatArray:
        """Per-customer log-likelihood under the fitted parameters."""
        p = self._fitted()
        return chunked(
            lambda x, t, age: individual_log_likelihood(p, x, t, age, self._shift),
            rfm.frequency.astype(np.float64),
            rfm.recency,
            rfm.T,
        )

    def probability_alive_at(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike
    ) -> FloatArray:
        """P(alive at T) (FHL 2005 eq. 13; Batislam et al. 2007 for MBG/NBD)."""
        p = self._fitted()
        k = self._shift
        return chunked(
            lambda x, t, a: _p_alive(p, x, t, a, k), *broadcast_rfm(frequency, recency, age)
        )

    def expected_purchases_at(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        horizon: float,
    ) -> FloatArray:
        """E[purchases in (T, T + horizon]] (FHL 2005 eq. 10)."""
        p, k = self._fitted(), self._shift
        return chunked(
            lambda x, t, a: _conditional_expected(p, x, t, a, horizon, k),
            *broadcast_rfm(frequency, recency, age),
        )

    def expected_purchases_by_horizon(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        horizons: Sequence[float],
    ) -> FloatArray:
        """As ``expected_purchases_at`` for each horizon (columns), P(alive) computed once and
        the hypergeometric part once per distinct (frequency, T): the costly part of a CLV."""
        p, k = self._fitted(), self._shift
        x, t_x, a = broadcast_rfm(frequency, recency, age)
        out = np.empty((x.size, len(horizons)))
        for part in chunks(x.size):
            alive = _p_alive(p, x[part], t_x[part], a[part], k)
            pairs = _distinct_pairs(x[part], a[part])
            for j, h in enumerate(horizons):
                if pairs is None:
                    out[part, j] = _if_alive(p, x[part], a[part], h, k) * alive
                else:
                    xs, ages, rows = pairs
                    out[part, j] = _if_alive(p, xs, ages, h, k)[rows] * alive
        return out

    def probability_of_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n) for a new customer (FHL 2005 eq. 8; Batislam et al. 2007 for MBG/NBD)."""
        r, alpha, a, b = self._fitted()
        one = np.ones(1)
        return float(_new_pmf(int(n), r * one, alpha * one, a, b * one, t, self._shift)[0])

    def _posterior_new_pmf(self, n: int, x: FloatArray, age: FloatArray, t: float) -> FloatArray:
        # Alive at T after x repeat purchases: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x+k); from
        # there on drop-out chances come only after purchases, as for a BG/NBD newcomer.
        r, alpha, a, b = self._fitted()
        return _new_pmf(n, r + x, alpha + age, a, b + x + self._shift, t, 0)

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: repeat purchases by a new customer in (0, t] (FHL 2005 eq. 9)."""
        p, k = self._fitted(), self._shift
        tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
        zeros = np.zeros_like(tt)
        return _conditional_expected(p, zeros, zeros, zeros, tt, k)


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD: as BG/NBD, but a customer may also drop out right after the first purchase.

    Batislam, Denizel & Filiztekin (2007), Int. J. of Research in Marketing 24(3).
    """

    name: ClassVar[str] = "ModifiedBetaGeo"
    _shift: ClassVar[int] = 1


def _new_pmf(
    n: int, r: FloatArray, alpha: FloatArray, a: float, b: FloatArray, t: float, k: int
) -> FloatArray:
    """P(X(t) = n) = B(a, b+n+k)/B(a,b)·NB(n) + B(a+1, b+n+k−1)/B(a,b)·P(NB >= n).

    First term: still alive after n (+k) drop-out chances and exactly n Poisson-Gamma
    arrivals; second: dropped out at the n-th chance, which needs at least n arrivals by t.
    NB(n) has size r and success probability α/(α+t); P(NB >= n) = I_{t/(α+t)}(n, r).
    """
    sp = special()
    z = t / (alpha + t)
    base = sp.betaln(a, b)
    log_nb = (
        sp.gammaln(r + n) - sp.gammaln(r) - sp.gammaln(n + 1.0)
        + r * np.log1p(-z) + sp.xlogy(n, z)
    )  # fmt: skip
    out = np.exp(sp.betaln(a, b + n + k) - base + log_nb)
    if n + k >= 1:
        tail = sp.betainc(n, r, z) if n >= 1 else np.ones_like(r)
        out = out + np.exp(sp.betaln(a + 1, b + n + k - 1) - base) * tail
    return np.asarray(out, dtype=np.float64)


def _distinct_pairs(
    x: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray] | None:
    """Distinct (x, T) with each customer's row, when customers share them (ages in whole
    days or weeks), else None."""
    zeros = np.zeros(x.size)
    whole = x.astype(np.int64)
    if x.size < 1000 or not mostly_duplicates(whole, zeros, age):
        return None
    xs, _, ages, _, rows = distinct_customers(whole, zeros, age, inverse=True)
    assert rows is not None
    return xs.astype(np.float64), ages, rows


def _starts(d: Summary) -> list[list[float]]:
    scale = float(np.log(max(np.average(d.T, weights=d.weight), 1e-6)))
    return [
        [0.0, scale - 1.0, 0.0, 0.0],
        [np.log(0.25), scale, np.log(0.8), np.log(2.5)],
        [np.log(2.0), scale + 1.0, np.log(2.0), np.log(5.0)],
    ]


def _log_ratio(
    p: BetaGeoParams, x: FloatArray, t_x: FloatArray, age: FloatArray, k: int
) -> FloatArray:
    """log(term2/term1) of the likelihood; P(alive) = 1/(1 + exp of it); −inf when x + k = 0."""
    r, alpha, a, b = p
    with np.errstate(divide="ignore"):
        log_a = np.where(x + k >= 1, np.log(a) - np.log(np.maximum(b + x + k - 1, 1e-300)), -np.inf)
    return np.asarray(log_a + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x)))


def _p_alive(
    p: BetaGeoParams, x: FloatArray, t_x: FloatArray, age: FloatArray, k: int
) -> FloatArray:
    return np.asarray(special().expit(-_log_ratio(p, x, t_x, age, k)))


def _conditional_expected(
    p: BetaGeoParams, x: FloatArray, t_x: FloatArray, age: FloatArray, t: float | FloatArray, k: int
) -> FloatArray:
    return np.asarray(_if_alive(p, x, age, t, k) * _p_alive(p, x, t_x, age, k))


def _if_alive(
    p: BetaGeoParams, x: FloatArray, age: FloatArray, t: float | FloatArray, k: int
) -> FloatArray:
    """E[purchases in (T, T + t] | alive at T]: depends on (x, T), not on recency."""
    # (1-z)^(r+x) 2F1(r+x, b+x+k; c; z) rewritten by Euler's transformation as
    # (1-z)^(a-1) 2F1(a+b+k-1-r, a-1; c; z): its parameters stay small for heavy buyers.
    r, alpha, a, b = p
    c = a + b + x + k - 1
    z = t / (alpha + age + t)
    with np.errstate(over="ignore", invalid="ignore"):
        hyp = special().hyp2f1(a + b + k - 1 - r, a - 1, c, z)
        bracket = 1.0 - np.exp((a - 1) * np.log1p(-z)) * hyp
    bad = ~np.isfinite(bracket)
    if bad.any():
        # Very large a and b (a dropout chance the same for everyone): the transformed 2F1
        # overflows while its factor underflows. The untransformed series converges there.
        zb, xb = z[bad] if np.ndim(z) else z, x[bad]
        series = _hyp2f1_series(r + xb, b + xb + k, c[bad], zb)
        bracket[bad] = 1.0 - np.exp((r + xb) * np.log1p(-zb)) * series
    return np.asarray(c / (a - 1) * bracket)


def _hyp2f1_series(
    a: FloatArray, b: FloatArray, c: FloatArray, z: FloatArray | float, terms: int = 20_000
) -> FloatArray:
    """Gauss's series for 2F1(a, b; c; z), 0 <= z < 1, summed until the terms stop counting."""
    z = np.broadcast_to(np.asarray(z, dtype=np.float64), np.shape(a))
    term = np.ones(np.shape(a))
    total = np.ones(np.shape(a))
    for n in range(terms):
        term = term * (a + n) * (b + n) / ((c + n) * (n + 1)) * z
        total = total + term
        if np.all(np.abs(term) <= 1e-16 * np.abs(total)):
            break
    return total
