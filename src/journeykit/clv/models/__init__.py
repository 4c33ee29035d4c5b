"""Fit/predict CLV models: BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma and sBG."""

from journeykit.clv.models._base import FitResult, Model
from journeykit.clv.models.beta_geo import BetaGeo, BetaGeoParams, ModifiedBetaGeo
from journeykit.clv.models.gamma_gamma import GammaGamma, GammaGammaParams
from journeykit.clv.models.pareto_nbd import ParetoNBD, ParetoNBDParams
from journeykit.clv.models.shifted_beta_geo import (
    Renewals,
    ShiftedBetaGeometric,
    ShiftedBetaGeoParams,
    read_renewals,
)

__all__ = [
    "BetaGeo",
    "BetaGeoParams",
    "FitResult",
    "GammaGamma",
    "GammaGammaParams",
    "Model",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "ParetoNBDParams",
    "Renewals",
    "ShiftedBetaGeoParams",
    "ShiftedBetaGeometric",
    "read_renewals",
]
