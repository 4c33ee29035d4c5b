"""How sure is a CLV figure? Intervals from the fitted parameters' covariance (delta method).

CLV is a smooth function of the transaction model's and Gamma-Gamma's parameters. Its gradient
in log-parameters (central differences: two CLV passes per parameter) and the parameters'
asymptotic covariance give a standard error for each customer's CLV and for a group's mean;
the interval is taken on the log scale, so it stays positive and is skewed as CLV is.

The two models are fitted separately (spend on the repeat buyers only), so their covariance is
taken block-diagonal, as lifetimes and BTYD users do when they combine them. This is the
uncertainty from estimating the parameters on a finite base, which is what separates a real
difference between groups from noise; a single customer's own future is far more variable
(that is the purchase count's distribution, see ``probability_of_purchases_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from journeykit.clv.rfm import RFM, FloatArray

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.clv.models._base import CountingModel
    from journeykit.clv.models.gamma_gamma import GammaGamma

_STEP = 1e-4  # in log-parameters


@dataclass(frozen=True, eq=False)
class CLVIntervals:
    """Per customer and per group: CLV, its standard error and a ``level`` interval."""

    level: float
    clv: FloatArray
    standard_error: FloatArray
    lower: FloatArray
    upper: FloatArray
    groups: tuple[GroupInterval, ...]
    gradient: FloatArray  # ∂CLV_i/∂log θ_j, customers × parameters
    covariance: FloatArray  # of log θ
    z: float

    def group(self, name: str, mask: npt.NDArray[np.bool_]) -> GroupInterval:
        """The interval of the mean CLV of the customers picked by ``mask``."""
        return _group(name, mask, self.clv, self.gradient, self.covariance, self.z)

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {"clv": self.clv, "standard_error": self.standard_error, "lower": self.lower,
             "upper": self.upper}
        )  # fmt: skip


@dataclass(frozen=True)
class GroupInterval:
    group: str
    customers: int
    mean_clv: float
    standard_error: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def clv_intervals(
    transaction_model: CountingModel[Any],
    spend_model: GammaGamma,
    rfm: RFM,
    *,
    groups: npt.ArrayLike | None = None,
    horizon: int = 12,
    discount_rate: float = 0.01,
    time_unit: str = "D",
    level: float = 0.95,
) -> CLVIntervals:
    """Delta-method intervals for ``discounted_clv`` per customer and per group (``groups``:
    one label per customer; the whole base is always the group "all")."""
    from journeykit.clv._scipy import special
    from journeykit.clv.errors import NotFittedError
    from journeykit.clv.value import discounted_clv

    covs = [transaction_model.covariance_, spend_model.covariance_]
    if any(c is None for c in covs):
        raise NotFittedError(
            "intervals need models fitted here (the covariance is not saved in JSON or known "
            "for from_params); fit them, or check the fit converged"
        )
    t_params = np.asarray(transaction_model.params_, dtype=np.float64)
    s_params = np.asarray(spend_model.params_, dtype=np.float64)
    theta = np.log(np.r_[t_params, s_params])
    k = t_params.size
    # covariance of log θ from that of θ: divide by θ_i θ_j
    cov = np.zeros((theta.size, theta.size))
    cov[:k, :k] = covs[0] / np.outer(t_params, t_params)  # type: ignore[operator]
    cov[k:, k:] = covs[1] / np.outer(s_params, s_params)  # type: ignore[operator]

    def clv_at(log_params: FloatArray) -> FloatArray:
        p = np.exp(log_params)
        tm = type(transaction_model).from_params(tuple(p[:k]))
        sm = type(spend_model).from_params(tuple(p[k:]))
        return discounted_clv(
            tm, sm, rfm, horizon=horizon, discount_rate=discount_rate, time_unit=time_unit
        ).clv

    centre = clv_at(theta)
    gradient = np.empty((rfm.frequency.size, theta.size))
    for i in range(theta.size):
        e = np.zeros(theta.size)
        e[i] = _STEP
        gradient[:, i] = (clv_at(theta + e) - clv_at(theta - e)) / (2 * _STEP)
    z = float(special().ndtri(0.5 + level / 2))
    se = np.sqrt(np.einsum("ij,jk,ik->i", gradient, cov, gradient))
    lower, upper = _log_interval(centre, se, z)
    labels = np.full(centre.size, "all", dtype=object) if groups is None else np.asarray(groups)
    out = [_group("all", np.ones(centre.size, bool), centre, gradient, cov, z)]
    if groups is not None:
        for name in dict.fromkeys(labels.tolist()):
            out.append(_group(str(name), labels == name, centre, gradient, cov, z))
    return CLVIntervals(level, centre, se, lower, upper, tuple(out), gradient, cov, z)


def _log_interval(value: FloatArray, se: FloatArray, z: float) -> tuple[FloatArray, FloatArray]:
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.where(value > 0, np.exp(z * se / value), 1.0)
    return value / spread, value * spread


def _group(
    name: str, mask: npt.NDArray[np.bool_], clv: FloatArray, gradient: FloatArray,
    cov: FloatArray, z: float,
) -> GroupInterval:  # fmt: skip
    mean = float(clv[mask].mean())
    g = gradient[mask].mean(axis=0)
    se = float(np.sqrt(g @ cov @ g))
    lo, hi = _log_interval(np.array([mean]), np.array([se]), z)
    return GroupInterval(name, int(mask.sum()), mean, se, float(lo[0]), float(hi[0]))
