"""Likelihood-ratio test of nested models: is the richer model's better fit more than chance?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from journeykit.clv._scipy import special
from journeykit.clv.models._base import FitResult, Model

Fit = Model[Any] | FitResult


@dataclass(frozen=True)
class LikelihoodRatio:
    statistic: float  # 2 (LL_full − LL_restricted)
    df: int
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {"statistic": self.statistic, "df": self.df, "p_value": self.p_value}


def likelihood_ratio_test(
    restricted: Fit,
    full: Fit | Sequence[Fit],
    *,
    df: int | None = None,
) -> LikelihoodRatio:
    """Wilks' test: 2 (LL_full − LL_restricted) against χ² with ``df`` degrees of freedom
    (default: the number of extra parameters).

    ``full`` may be several fits whose log-likelihoods add, e.g. one per persona against one
    pooled fit: "do the personas buy and churn differently?" with df = 4 × (groups − 1) for
    BG/NBD; or a plain fit against a covariate model's ``result_``, df = the number of
    coefficients. The restricted model must be a special case of the full one, fitted on the same
    customers; a parameter at the boundary of its space (e.g. a variance of 0) makes the χ²
    reference conservative.
    """
    fulls = list(full) if isinstance(full, Sequence) else [full]
    small = _result(restricted)
    bigs = [_result(f) for f in fulls]
    extra = sum(len(b.params) for b in bigs) - len(small.params)
    dof = extra if df is None else df
    if dof < 1:
        raise ValueError(f"the full model must have more parameters (df = {dof})")
    customers = sum(b.customers for b in bigs)
    if customers != small.customers:
        raise ValueError(
            f"the fits are on different customers ({small.customers:,} vs {customers:,})"
        )
    stat = 2.0 * (sum(b.log_likelihood for b in bigs) - small.log_likelihood)
    p = float(special().chdtrc(dof, max(stat, 0.0)))
    return LikelihoodRatio(float(stat), int(dof), p)


def _result(model: Fit) -> FitResult:
    if isinstance(model, Model):
        return model.result()
    return model
