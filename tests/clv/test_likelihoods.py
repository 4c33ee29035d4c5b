"""Vectorised likelihoods against plain per-customer formulas and numerical integration."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from journeykit.clv import (
    BetaGeoParams,
    GammaGammaParams,
    ParetoNBDParams,
    Renewals,
    ShiftedBetaGeoParams,
)
from journeykit.clv.models import beta_geo, gamma_gamma, pareto_nbd, shifted_beta_geo
from journeykit.clv.models._base import Summary, distinct_customers

CUSTOMERS = [
    (0, 0.0, 38.86),
    (1, 1.71, 38.86),
    (2, 30.43, 38.86),
    (7, 38.0, 38.86),
    (25, 20.0, 30.0),
    (60, 35.5, 38.86),
    (3, 12.0, 12.0),
]


def _bg_plain(p: BetaGeoParams, x: int, t_x: float, age: float, k: int) -> float:
    """FHL (2005) eq. 6 (k=0) / Batislam et al. eq. 3 (k=1) with math.lgamma, no vectors."""
    r, alpha, a, b = p
    beta_fn = lambda u, v: math.lgamma(u) + math.lgamma(v) - math.lgamma(u + v)  # noqa: E731
    head = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha)
    alive = beta_fn(a, b + x + k) - beta_fn(a, b) - (r + x) * math.log(alpha + age)
    if x + k == 0:
        return head + alive
    died = beta_fn(a + 1, b + x + k - 1) - beta_fn(a, b) - (r + x) * math.log(alpha + t_x)
    return head + math.log(math.exp(alive) + math.exp(died))


@pytest.mark.parametrize("k", [0, 1])
def test_bg_and_mbg_likelihood_match_plain_formula(k: int) -> None:
    p = BetaGeoParams(0.243, 4.414, 0.793, 2.426)
    x, t_x, age = (np.array(c, dtype=float) for c in zip(*CUSTOMERS, strict=True))
    got = beta_geo.individual_log_likelihood(p, x, t_x, age, k)
    want = [_bg_plain(p, int(a), b, c, k) for a, b, c in CUSTOMERS]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    total, _ = beta_geo.log_likelihood_terms(
        p, Summary.from_arrays(x.astype(np.int64), t_x, age), k
    )
    assert total == pytest.approx(sum(want), rel=1e-12)


def test_bg_likelihood_integrates_lambda_and_p_out() -> None:
    """The BG/NBD likelihood is ∫∫ L(λ, p) g(λ) f(p): check one customer by quadrature."""
    p = BetaGeoParams(0.8, 4.0, 1.2, 2.5)
    x, t_x, age = 3, 10.0, 20.0

    def integrand(lam: float, q: float) -> float:
        stay = (1 - q) ** x * lam**x * math.exp(-lam * age)
        left = q * (1 - q) ** (x - 1) * lam**x * math.exp(-lam * t_x)
        g = math.exp(
            p.r * math.log(p.alpha) + (p.r - 1) * math.log(lam) - p.alpha * lam - math.lgamma(p.r)
        )
        f = q ** (p.a - 1) * (1 - q) ** (p.b - 1) / special.beta(p.a, p.b)
        return (stay + left) * g * f

    value, _ = integrate.dblquad(integrand, 0, 1, 0, 20, epsabs=0, epsrel=1e-10)
    got = beta_geo.individual_log_likelihood(p, np.array([3.0]), np.array([10.0]), np.array([20.0]))
    assert got[0] == pytest.approx(math.log(value), abs=1e-6)


def _pareto_by_quadrature(p: ParetoNBDParams, x: int, t_x: float, age: float) -> float:
    """log Γ(r+x)α^r β^s/Γ(r) [(α+T)^-(r+x) (β+T)^-s + s ∫_{t_x}^T (α+τ)^-(r+x) (β+τ)^-(s+1) dτ],
    integrated numerically after factoring out the integrand's value at t_x (heavy buyers)."""
    r, alpha, s, beta = p
    log_top = -(r + x) * math.log(alpha + t_x) - (s + 1) * math.log(beta + t_x)
    scaled, _ = integrate.quad(
        lambda tau: math.exp(
            -(r + x) * math.log(alpha + tau) - (s + 1) * math.log(beta + tau) - log_top
        ),
        t_x,
        age,
        epsabs=0,
        epsrel=1e-12,
        limit=200,
    )
    alive = -(r + x) * math.log(alpha + age) - s * math.log(beta + age)
    died = math.log(s) + log_top + math.log(scaled) if scaled > 0 else -math.inf
    head = math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) + s * math.log(beta)
    return head + np.logaddexp(alive, died)


@pytest.mark.parametrize(
    "params",
    [
        ParetoNBDParams(0.553, 10.578, 0.606, 11.669),
        ParetoNBDParams(0.9, 20.0, 1.4, 3.0),
        ParetoNBDParams(2.0, 5.0, 0.5, 5.0),
    ],
    ids=["cdnow-alpha<beta", "alpha>beta", "alpha=beta"],
)
def test_pareto_likelihood_matches_quadrature(params: ParetoNBDParams) -> None:
    customers = [*CUSTOMERS, (200, 38.5, 38.86), (400, 10.0, 38.86)]
    x, t_x, age = (np.array(c, dtype=float) for c in zip(*customers, strict=True))
    got = pareto_nbd.individual_log_likelihood(params, x, t_x, age)
    want = [_pareto_by_quadrature(params, int(a), b, c) for a, b, c in customers]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_gamma_gamma_likelihood_is_the_zbar_density() -> None:
    """zbar of x Gamma(p, ν) draws is Gamma(px, xν); integrate ν ~ Gamma(q, v) out numerically."""
    params = GammaGammaParams(6.25, 3.74, 15.44)
    x, m = np.array([1, 2, 5]), np.array([20.0, 35.0, 12.0])

    def density(xi: int, mi: float) -> float:
        p, q, v = params
        f = lambda nu: (  # noqa: E731
            math.exp(
                (p * xi) * math.log(xi * nu)
                + (p * xi - 1) * math.log(mi)
                - xi * nu * mi
                - math.lgamma(p * xi)
            )
            * math.exp(q * math.log(v) + (q - 1) * math.log(nu) - v * nu - math.lgamma(q))
        )
        return integrate.quad(f, 0, np.inf, epsabs=0, epsrel=1e-11, limit=200)[0]

    total, _ = gamma_gamma.log_likelihood_terms(params, x, m)
    want = sum(math.log(density(int(a), b)) for a, b in zip(x, m, strict=True))
    assert total == pytest.approx(want, rel=1e-8)


def test_sbg_likelihood_matches_beta_integral() -> None:
    params = ShiftedBetaGeoParams(0.7, 1.2)
    data = Renewals.from_alive([100, 60, 45, 40])
    a, b = params

    def p_churn(t: int) -> float:
        return integrate.quad(
            lambda th: (
                th * (1 - th) ** (t - 1) * th ** (a - 1) * (1 - th) ** (b - 1) / special.beta(a, b)
            ),
            0,
            1,
            epsrel=1e-12,
        )[0]

    survive_3 = 1 - sum(p_churn(t) for t in (1, 2, 3))
    want = 40 * math.log(p_churn(1)) + 15 * math.log(p_churn(2)) + 5 * math.log(p_churn(3))
    want += 40 * math.log(survive_3)
    total, _ = shifted_beta_geo.log_likelihood_terms(params, data)
    assert total == pytest.approx(want, rel=1e-7)


@pytest.mark.parametrize("k", [0, 1])
def test_bg_gradient_matches_finite_differences(k: int) -> None:
    rng = np.random.default_rng(7)
    x = rng.integers(0, 30, 500)
    age = rng.uniform(5, 40, 500)
    t_x = np.where(x > 0, age * rng.uniform(0, 1, 500), 0.0)
    d = Summary.from_arrays(x, t_x, age)
    theta = np.log([0.5, 3.0, 0.8, 2.0])
    _, grad = beta_geo.log_likelihood_terms(BetaGeoParams(*np.exp(theta)), d, k)
    step = 1e-6
    for i in range(4):
        e = np.zeros(4)
        e[i] = step
        up = beta_geo.log_likelihood_terms(BetaGeoParams(*np.exp(theta + e)), d, k)[0]
        down = beta_geo.log_likelihood_terms(BetaGeoParams(*np.exp(theta - e)), d, k)[0]
        assert grad[i] == pytest.approx((up - down) / (2 * step), rel=1e-6)


def test_bg_nbd_conditional_expectation_stays_finite_for_huge_a_and_b() -> None:
    """A fit can drive a and b to millions (everyone's dropout chance the same): the transformed
    2F1 overflows there; the value must be finite and continuous with moderate a and b."""
    import warnings

    from journeykit.clv.models.beta_geo import BetaGeoParams, _conditional_expected

    x, tx, age = np.array([0.0, 1, 3]), np.array([0, 1.7, 5]), np.array([8.8, 1.7, 9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = _conditional_expected(BetaGeoParams(0.8, 30.6, 2e6, 3.6e5), x, tx, age, 52.0, 0)
    large = _conditional_expected(BetaGeoParams(0.8, 30.6, 2e4, 3.6e3), x, tx, age, 52.0, 0)
    assert np.all(np.isfinite(huge))
    assert huge == pytest.approx(large, rel=1e-3)


@pytest.mark.parametrize("unit", [1.0, 1 / 7])  # whole days pack into one key; weeks do not
def test_identical_customers_merge_into_weights(unit: float) -> None:
    """The merge behind every fit: each distinct (x, t_x, T) once, weighted by its count."""
    from collections import Counter

    rng = np.random.default_rng(3)
    x = rng.integers(0, 5, 30_000)
    age = rng.integers(0, 40, 30_000) * unit
    t_x = np.where(x > 0, np.floor(age / unit * rng.uniform(0, 1, 30_000)) * unit, 0.0)
    d = Summary.from_arrays(x, t_x, age)
    assert d.x.size < x.size  # merged
    want = Counter(zip(x.tolist(), t_x.tolist(), age.tolist(), strict=True))
    got = dict(
        zip(zip(d.x.tolist(), d.t_x.tolist(), d.T.tolist(), strict=True), d.weight, strict=True)
    )
    assert got == want
    assert d.customers == x.size
    xs, ts, ages, _, rows = distinct_customers(x, t_x, age, inverse=True)
    assert rows is not None
    np.testing.assert_array_equal(xs[rows], x)
    np.testing.assert_array_equal(ts[rows], t_x)
    np.testing.assert_array_equal(ages[rows], age)
