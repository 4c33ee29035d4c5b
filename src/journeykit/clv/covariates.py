"""Time-invariant covariates on the purchase and drop-out processes (Fader & Hardie 2007,
"Incorporating time-invariant covariates into the Pareto/NBD and BG/NBD models", note 019; the
parameterisation of CLVTools' static-covariate models):

- Pareto/NBD: α_i = α₀·exp(−γ_purchase·z_i), β_i = β₀·exp(−γ_dropout·w_i);
- BG/NBD and MBG/NBD: α_i = α₀·exp(−γ_purchase·z_i), a_i = a₀·exp(γ_dropout·w_i),
  b_i = b₀·exp(γ_dropout·w_i).

A positive purchase coefficient means more frequent buying (mean rate r/α grows by e^γ per
unit); a positive drop-out coefficient, for Pareto/NBD, a higher drop-out rate (mean s/β), and
for BG/NBD it scales both Beta arguments. Customers are grouped by their distinct covariate rows
(persona, entry cohort, channel: a handful), and each group's likelihood is the fixed-parameter
one, so a fit costs (groups) × the plain model's. The fit is a ``FitResult`` (``result_``) whose
params hold the base parameters, then ``purchase:<name>`` and ``dropout:<name>`` coefficients.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import function_hessian, maximise, numeric_gradient
from journeykit.clv.errors import RFMError
from journeykit.clv.models._base import FitResult, Summary, dot
from journeykit.clv.models.beta_geo import BetaGeo, BetaGeoParams, log_likelihood_terms
from journeykit.clv.models.pareto_nbd import ParetoNBD, ParetoNBDParams, individual_log_likelihood
from journeykit.clv.rfm import RFM, FloatArray


def _matrix(values: npt.ArrayLike | None, n: int, name: str) -> FloatArray:
    if values is None:
        return np.zeros((n, 0))
    z = np.asarray(values, dtype=np.float64)
    z = z[:, None] if z.ndim == 1 else z
    if z.ndim != 2 or z.shape[0] != n:
        raise RFMError(f"has shape {z.shape}, expected ({n}, k): one row per customer", column=name)
    bad = ~np.isfinite(z).all(axis=1)
    if bad.any():
        raise RFMError("is not a finite number", column=name, row=int(np.argmax(bad)))
    return z


class _CovariateModel:
    base: ClassVar[type[BetaGeo] | type[ParetoNBD]]
    name: ClassVar[str]

    def __init__(self, *, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    # --- what differs between the two families -------------------------------------------
    def _group_params(self, base: FloatArray, purchase: float, dropout: float) -> tuple[float, ...]:
        raise NotImplementedError

    def _group_loglik(self, params: tuple[float, ...], d: Summary) -> float:
        raise NotImplementedError

    # --- shared ----------------------------------------------------------------------------
    def fit(
        self,
        rfm: RFM,
        *,
        purchase: npt.ArrayLike | None = None,
        dropout: npt.ArrayLike | None = None,
        names: tuple[list[str], list[str]] | None = None,
    ) -> _CovariateModel:
        """``purchase``/``dropout``: one row of covariates per customer (e.g. 0/1 dummies of a
        persona, centred numbers); either may be None. ``names`` label their columns."""
        n = len(rfm)
        zp, zd = _matrix(purchase, n, "purchase"), _matrix(dropout, n, "dropout")
        rows, inverse = np.unique(np.c_[zp, zd], axis=0, return_inverse=True)
        inverse = np.ravel(inverse)
        kp = zp.shape[1]
        groups = [
            (rows[g, :kp], rows[g, kp:], Summary.from_rfm(rfm.select(inverse == g)))
            for g in range(rows.shape[0])
        ]
        k_base = len(self.base.params_type._fields)

        def total(theta: FloatArray) -> float:
            base = np.exp(theta[:k_base])
            gp, gd = theta[k_base : k_base + kp], theta[k_base + kp :]
            out = 0.0
            with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
                for z_p, z_d, d in groups:
                    out += self._group_loglik(
                        self._group_params(base, float(z_p @ gp), float(z_d @ gd)), d
                    )
            return out if np.isfinite(out) else -np.inf

        plain = self.base(penalizer=self.penalizer).fit(rfm)
        start = np.r_[np.log(np.asarray(plain.params_)), np.zeros(kp + zd.shape[1])]
        optimum = maximise(
            lambda theta: (total(theta), numeric_gradient(total, theta)),
            [start],
            names=[f"p{i}" for i in range(start.size)],
            customers=float(n),
            penalizer=self.penalizer,
            hessian=lambda theta: function_hessian(total, theta),
        )
        theta = optimum.log_params
        labels_p, labels_d = names or (
            [f"purchase_{i}" for i in range(kp)],
            [f"dropout_{i}" for i in range(zd.shape[1])],
        )
        keys = [*self.base.params_type._fields, *(f"purchase:{s}" for s in labels_p),
                *(f"dropout:{s}" for s in labels_d)]  # fmt: skip
        natural = np.r_[np.exp(theta[:k_base]), theta[k_base:]]
        se = None
        if optimum.covariance is not None:  # maximise maps every coordinate by exp(θ)
            scale = np.exp(theta)
            cov_theta = optimum.covariance / np.outer(scale, scale)
            jac = np.r_[natural[:k_base], np.ones(theta.size - k_base)]
            se = dict(zip(keys, np.sqrt(np.diag(cov_theta)) * jac, strict=True))
        self.result_ = FitResult(
            model=self.name,
            params=dict(zip(keys, natural.tolist(), strict=True)),
            standard_errors=None if se is None else {k: float(v) for k, v in se.items()},
            log_likelihood=optimum.log_likelihood,
            customers=n,
            penalizer=self.penalizer,
            diagnosis=optimum.diagnosis,
            time_unit=rfm.time_unit,
        )
        self._theta, self._kp, self._k_base = theta, kp, k_base
        return self

    def model_for(
        self, purchase: npt.ArrayLike | None = None, dropout: npt.ArrayLike | None = None
    ) -> BetaGeo | ParetoNBD:
        """The plain model of customers with these covariates: every prediction from there."""
        theta, kb, kp = self._theta, self._k_base, self._kp
        zp = np.zeros(kp) if purchase is None else np.atleast_1d(np.asarray(purchase, float))
        zd_size = theta.size - kb - kp
        zd = np.zeros(zd_size) if dropout is None else np.atleast_1d(np.asarray(dropout, float))
        params = self._group_params(
            np.exp(theta[:kb]), float(zp @ theta[kb : kb + kp]), float(zd @ theta[kb + kp :])
        )
        return self.base.from_params(params)


class BetaGeoCovariates(_CovariateModel):
    """BG/NBD with covariates: α scaled by exp(−γ_purchase·z), a and b by exp(γ_dropout·w)."""

    base = BetaGeo
    name = "BetaGeoCovariates"

    def _group_params(self, base: FloatArray, purchase: float, dropout: float) -> tuple[float, ...]:
        r, alpha, a, b = base
        return (r, alpha * np.exp(-purchase), a * np.exp(dropout), b * np.exp(dropout))

    def _group_loglik(self, params: tuple[float, ...], d: Summary) -> float:
        return log_likelihood_terms(BetaGeoParams(*params), d, 0)[0]


class ParetoNBDCovariates(_CovariateModel):
    """Pareto/NBD with covariates: α scaled by exp(−γ_purchase·z), β by exp(−γ_dropout·w)."""

    base = ParetoNBD
    name = "ParetoNBDCovariates"

    def _group_params(self, base: FloatArray, purchase: float, dropout: float) -> tuple[float, ...]:
        r, alpha, s, beta = base
        return (r, alpha * np.exp(-purchase), s, beta * np.exp(-dropout))

    def _group_loglik(self, params: tuple[float, ...], d: Summary) -> float:
        return dot(d.weight, individual_log_likelihood(ParetoNBDParams(*params), d.xf, d.t_x, d.T))
