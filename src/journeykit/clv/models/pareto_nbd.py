"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie (2005) note 008.

Purchases at a Poisson rate λ ~ Gamma(r, α) for an exponential lifetime with rate μ ~ Gamma(s, β).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ClassVar, NamedTuple, Self

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import LogLik, function_hessian, maximise, numeric_gradient
from journeykit.clv._scipy import special
from journeykit.clv.models._base import (
    CountingModel,
    Summary,
    broadcast_rfm,
    chunked,
    chunks,
    dot,
)
from journeykit.clv.rfm import RFM, FloatArray


class ParetoNBDParams(NamedTuple):
    r: float
    alpha: float
    s: float
    beta: float


def _log_terms(
    p: ParetoNBDParams, x: FloatArray, t_x: FloatArray, age: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(log Γ(r+x)α^r β^s/Γ(r), log of the alive-at-T term, log of the died-in-(t_x, T] term).

    The second term is s·∫_{t_x}^{T} (α+τ)^-(r+x) (β+τ)^-(s+1) dτ = s/(r+s+x)·A0 (note 008 eq. 19),
    with A0 = G(t_x) − G(T) and G(τ) = 2F1(r+s+x, b; r+s+x+1; z(τ)) / (max(α,β)+τ)^(r+s+x).
    The difference is taken in logs (log G(t_x) + log(1 − exp(log G(T) − log G(t_x)))) so
    customers with t_x close to T do not cancel catastrophically.
    """
    sp = special()
    r, alpha, s, beta = p
    head = sp.gammaln(r + x) - sp.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + age) - s * np.log(beta + age)
    rsx = r + s + x
    if alpha >= beta:
        top, gap, b_arg = alpha, alpha - beta, np.full_like(x, s + 1)
    else:
        top, gap, b_arg = beta, beta - alpha, r + x

    def log_g(tau: FloatArray) -> FloatArray:
        q = top + tau
        return np.asarray(np.log(sp.hyp2f1(rsx, b_arg, rsx + 1, gap / q)) - rsx * np.log(q))

    g_tx, g_t = log_g(t_x), log_g(age)
    with np.errstate(divide="ignore"):  # t_x == T: no room to die in between, log 0 = −inf
        log_a0 = g_tx + np.log(-np.expm1(np.minimum(g_t - g_tx, 0.0)))
    died = np.log(s) - np.log(rsx) + log_a0
    return np.asarray(head), np.asarray(alive), np.asarray(died)


def individual_log_likelihood(
    params: ParetoNBDParams, x: FloatArray, t_x: FloatArray, age: FloatArray
) -> FloatArray:
    head, alive, died = _log_terms(params, x, t_x, age)
    return np.asarray(head + np.logaddexp(alive, died))


class ParetoNBD(CountingModel[ParetoNBDParams]):
    """Pareto/NBD: Poisson purchases during an exponential lifetime, both rates Gamma-mixed.

    Schmittlein, Morrison & Colombo (1987), Management Science 33(1); likelihood as in Fader &
    Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions".
    """

    name: ClassVar[str] = "ParetoNBD"
    params_type: ClassVar[type[ParetoNBDParams]] = ParetoNBDParams

    def fit(self, rfm: RFM, *, weights: npt.ArrayLike | None = None) -> Self:
        """Maximum likelihood; the gradient is by central differences (2F1 has no cheap one).

        ``weights``: how many customers each row stands for (aggregated data)."""
        d = Summary.from_rfm(rfm, weights)

        def total_on(data: Summary) -> Callable[[FloatArray], float]:
            def total(theta: FloatArray) -> float:
                p = ParetoNBDParams(*np.exp(theta))
                # Far from the optimum 2F1 can overflow; a non-finite total is rejected anyway.
                with np.errstate(invalid="ignore", over="ignore"):
                    ll = individual_log_likelihood(p, data.xf, data.t_x, data.T)
                return dot(data.weight, ll)

            return total

        def loglik_on(data: Summary) -> LogLik:
            total = total_on(data)
            return lambda theta: (total(theta), numeric_gradient(total, theta))

        screen = d.screen
        scale = float(np.log(max(np.average(d.T, weights=d.weight), 1e-6)))
        starts = [[0.0, scale - 1, 0.0, scale - 1], [np.log(0.5), scale, np.log(0.5), scale]]
        optimum = maximise(
            loglik_on(d),
            starts,
            names=ParetoNBDParams._fields,
            customers=d.customers,
            penalizer=self.penalizer,
            screen=None if screen is None else (loglik_on(screen), screen.customers),
            hessian=lambda theta: function_hessian(total_on(d), theta),
        )
        self._set_fit(optimum, round(d.customers), rfm.time_unit)
        return self

    def log_likelihood(self, rfm: RFM) -> FloatArray:
        p = self._fitted()
        return chunked(
            lambda x, t, a: individual_log_likelihood(p, x, t, a),
            rfm.frequency.astype(np.float64),
            rfm.recency,
            rfm.T,
        )

    def probability_alive_at(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike
    ) -> FloatArray:
        """P(alive at T): the alive term's share of the likelihood (note 008 eq. 21)."""
        p = self._fitted()
        return chunked(
            lambda x, t, a: _p_alive(p, x, t, a), *broadcast_rfm(frequency, recency, age)
        )

    def expected_purchases_at(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        horizon: float,
    ) -> FloatArray:
        """E[purchases in (T, T + horizon]] (note 008 eq. 22)."""
        p = self._fitted()
        return chunked(
            lambda x, t, a: _rate_while_alive(p, x, a, horizon) * _p_alive(p, x, t, a),
            *broadcast_rfm(frequency, recency, age),
        )

    def discounted_residual_transactions_at(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        discount_rate: float,
    ) -> FloatArray:
        """DERT: E[∫_T^∞ e^{−δ(t−T)} dY(t) | x, t_x, T], δ continuous per time unit (BTYD's
        ``pnbd.DERT``; Fader, Hardie & Lee 2005, "RFM and CLV", JMR 42(4), eq. 2).

        Alive at T, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T), so this is
        P(alive)·E[λ]·E[1/(μ+δ)] with E[1/(μ+δ)] = z^s U(s, s; z)/δ, z = δ(β+T).
        Weekly data and 15% a year: δ = ln(1.15)/52 ≈ 0.0027, as in BTYD's example.
        """
        if not discount_rate > 0:
            raise ValueError("discount_rate must be > 0 (continuous, per time unit)")
        p = self._fitted()
        sp = special()

        def dert(x: FloatArray, t_x: FloatArray, a: FloatArray) -> FloatArray:
            z = discount_rate * (p.beta + a)
            per_lambda = np.exp(p.s * np.log(z)) * sp.hyperu(p.s, p.s, z) / discount_rate
            return np.asarray(_p_alive(p, x, t_x, a) * (p.r + x) / (p.alpha + a) * per_lambda)

        return chunked(dert, *broadcast_rfm(frequency, recency, age))

    def probability_of_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n) for a new customer (the quantity of Fader & Hardie's note 012)."""
        r, alpha, s, beta = self._fitted()
        one = np.ones(1)
        return float(_new_pmf(int(n), r * one, alpha * one, s, beta * one, t)[0])

    def _posterior_new_pmf(self, n: int, x: FloatArray, age: FloatArray, t: float) -> FloatArray:
        # Alive at T: λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T); the future is a newcomer's.
        r, alpha, s, beta = self._fitted()
        return _new_pmf(n, r + x, alpha + age, s, beta + age, t)

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)] for a new customer (note 008 eq. 17)."""
        p = self._fitted()
        tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
        return _rate_while_alive(p, np.zeros_like(tt), np.zeros_like(tt), tt)


_NODES = 64  # Gauss-Legendre nodes for the drop-out integral of _new_pmf


@functools.cache
def _gauss_legendre() -> tuple[FloatArray, FloatArray]:
    """Computed once: leggauss solves an eigenproblem (~10 ms, more than the integral)."""
    nodes, weights = np.polynomial.legendre.leggauss(_NODES)
    return np.asarray(nodes), np.asarray(weights)


def _new_pmf(
    n: int, r: FloatArray, alpha: FloatArray, s: float, beta: FloatArray, t: float
) -> FloatArray:
    """P(X(t) = n) = NB(n | t)·S(t) + ∫_0^t NB(n | τ) dF(τ), F the drop-out time's Pareto(s, β)
    distribution and NB(n | τ) the Poisson-Gamma chance of n purchases in τ.

    Integrated in w = F(τ) rather than τ: the integrand is then bounded by 1 and smooth, so
    64 Gauss-Legendre nodes give ~12 digits where note 012's 2F1 sums need care.
    """
    sp = special()
    nodes, weights = _gauss_legendre()
    out = np.empty(alpha.size)
    for part in chunks(alpha.size, 1 << 14):  # customers × nodes stays about 1M numbers
        r_, a_, b_ = r[part, None], alpha[part, None], beta[part, None]
        head = sp.gammaln(r_ + n) - sp.gammaln(r_) - sp.gammaln(n + 1.0)

        def nb(
            tau: FloatArray, r_: FloatArray = r_, a_: FloatArray = a_, head: FloatArray = head
        ) -> FloatArray:
            z = tau / (a_ + tau)
            return np.asarray(np.exp(head + r_ * np.log1p(-z) + sp.xlogy(n, z)))

        survive = np.exp(-s * np.log1p(t / b_))  # S(t) = (β/(β+t))^s
        top = 1.0 - survive  # F(t)
        w = top * (nodes + 1) / 2
        tau = b_ * np.expm1(-np.log1p(-w) / s)  # F⁻¹(w)
        integral = top / 2 * (nb(tau) @ weights)[:, None]
        out[part] = (nb(np.full_like(a_, t)) * survive + integral)[:, 0]
    return out


def _p_alive(p: ParetoNBDParams, x: FloatArray, t_x: FloatArray, age: FloatArray) -> FloatArray:
    _, alive, died = _log_terms(p, x, t_x, age)
    return np.asarray(np.exp(alive - np.logaddexp(alive, died)))


def _rate_while_alive(
    p: ParetoNBDParams, x: FloatArray, age: FloatArray, t: float | FloatArray
) -> FloatArray:
    """(r+x)(β+T)/((α+T)(s−1))·[1 − ((β+T)/(β+T+t))^(s−1)], with the s → 1 limit."""
    r, alpha, s, beta = p
    span = np.log1p(t / (beta + age))
    integral = span if abs(s - 1) < 1e-9 else -np.expm1(-(s - 1) * span) / (s - 1)
    return np.asarray((r + x) * (beta + age) / (alpha + age) * integral)
