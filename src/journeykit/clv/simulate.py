"""Draw data from each model's generative story: for recovery tests, demos and benchmarks.

Vectorised with order statistics instead of a purchase-by-purchase loop: given N Poisson
arrivals in (0, w], the k-th arrival time is w·Beta(k, N−k+1).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from journeykit.clv.models.beta_geo import BetaGeoParams
from journeykit.clv.models.gamma_gamma import GammaGammaParams
from journeykit.clv.models.pareto_nbd import ParetoNBDParams
from journeykit.clv.models.shifted_beta_geo import Renewals, ShiftedBetaGeoParams
from journeykit.clv.rfm import RFM, FloatArray, IntArray


def _ages(n: int, T: float | npt.ArrayLike) -> FloatArray:
    return np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()


def _last_arrival(rng: np.random.Generator, x: IntArray, n: IntArray, w: FloatArray) -> FloatArray:
    """Time of the x-th of n uniform arrivals on (0, w]; 0 when x = 0."""
    t_x = np.zeros(x.size)
    some = x > 0
    t_x[some] = w[some] * rng.beta(x[some], n[some] - x[some] + 1)
    return t_x


def simulate_beta_geo(
    n: int,
    params: BetaGeoParams,
    T: float | npt.ArrayLike,
    *,
    seed: int,
    modified: bool = False,
) -> RFM:
    """BG/NBD (or MBG/NBD with ``modified=True``): λ ~ Gamma(r, α), p ~ Beta(a, b); after each
    repeat purchase (MBG: also after the first) the customer leaves with probability p."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = params
    age = _ages(n, T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * age)
    # repeat purchases made before dropping out if time were unlimited (geometric)
    lasting = rng.geometric(p) - (1 if modified else 0)
    x = np.minimum(arrivals, lasting)
    return RFM(frequency=x, recency=_last_arrival(rng, x, arrivals, age), T=age)


def simulate_pareto_nbd(
    n: int, params: ParetoNBDParams, T: float | npt.ArrayLike, *, seed: int
) -> RFM:
    """Pareto/NBD: λ ~ Gamma(r, α), lifetime ~ Exp(μ) with μ ~ Gamma(s, β)."""
    rng = np.random.default_rng(seed)
    r, alpha, s, beta = params
    age = _ages(n, T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    active = np.minimum(rng.exponential(1.0 / mu), age)
    x = rng.poisson(lam * active)
    return RFM(frequency=x, recency=_last_arrival(rng, x, x, active), T=age)


def simulate_spend(frequency: npt.ArrayLike, params: GammaGammaParams, *, seed: int) -> FloatArray:
    """Gamma-Gamma: ν ~ Gamma(q, γ); the mean of x values ~ Gamma(px, xν); 0 when x = 0."""
    rng = np.random.default_rng(seed)
    p, q, v = params
    x = np.asarray(frequency, dtype=np.int64)
    nu = rng.gamma(q, 1.0 / v, x.size)
    out = np.zeros(x.size)
    some = x > 0
    out[some] = rng.gamma(p * x[some], 1.0 / (x[some] * nu[some]))
    return out


def simulate_renewals(n: int, params: ShiftedBetaGeoParams, periods: int, *, seed: int) -> Renewals:
    """sBG: θ ~ Beta(α, β); each customer churns at the end of period T ~ Geometric(θ)."""
    rng = np.random.default_rng(seed)
    theta = rng.beta(params.alpha, params.beta, n)
    lifetime = rng.geometric(theta)
    churned = lifetime <= periods
    return Renewals.from_lifetimes(np.minimum(lifetime, periods), churned)


def simulate_constant_churn(
    n: int,
    *,
    churn: float,
    rate: float,
    mean_value: float,
    months: float = 12.0,
    life_starts_at_first_purchase: bool = True,
    seed: int,
) -> tuple[RFM, FloatArray]:
    """A base acquired evenly over ``months``, each customer a customer for Exp(``churn``) months
    and buying at ``rate`` a month meanwhile, purchase values Gamma(2) with ``mean_value``; the
    summary (in months) at the end, and each customer's total revenue. Its true lifetime value is
    ``mean_value * rate / churn`` (the simple formula's test case, docs/metrics.md "CLV").

    With ``life_starts_at_first_purchase`` false, life starts earlier and only customers who
    bought at all are seen, from their first purchase on.
    """
    rng = np.random.default_rng(seed)
    birth = rng.uniform(0.0, months, n)
    active = np.minimum(rng.exponential(1.0 / churn, n), months - birth)
    k = rng.poisson(rate * active)
    if life_starts_at_first_purchase:
        x, first, span = k, np.zeros(n), active
    else:
        seen = k > 0
        k, active, birth = k[seen], active[seen], birth[seen]
        first = active * rng.beta(1, k)  # the first of k uniform arrivals
        x, span = k - 1, active - first
    recency = _last_arrival(rng, x, x, span)
    revenue = rng.gamma(2.0 * (x + 1), mean_value / 2.0)
    rfm = RFM(frequency=x, recency=recency, T=months - birth - first, time_unit="M")
    return rfm, revenue
