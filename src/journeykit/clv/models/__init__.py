"""Fit/predict CLV models: BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma and sBG."""

from typing import Any

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

# The one registry of short names, for the CLI, the web, the report and the journey pipeline.
TRANSACTION_MODELS: dict[str, type[BetaGeo] | type[ParetoNBD]] = {
    "bgnbd": BetaGeo,
    "mbgnbd": ModifiedBetaGeo,
    "pnbd": ParetoNBD,
}
MODELS: dict[str, type[Model[Any]]] = {
    **TRANSACTION_MODELS,
    "gg": GammaGamma,
    "sbg": ShiftedBetaGeometric,
}
MODEL_HELP = "bgnbd (BG/NBD), mbgnbd (MBG/NBD), pnbd (Pareto/NBD), gg (Gamma-Gamma), sbg (renewals)"


def transaction_model(name: str) -> type[BetaGeo] | type[ParetoNBD]:
    """The transaction model class for a short name, or an error listing the known ones."""
    from journeykit.clv.errors import RFMError

    if name not in TRANSACTION_MODELS:
        raise RFMError(
            f"model must be one of {', '.join(TRANSACTION_MODELS)}, not {name!r}", column="model"
        )
    return TRANSACTION_MODELS[name]


__all__ = [
    "MODELS",
    "MODEL_HELP",
    "TRANSACTION_MODELS",
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
    "transaction_model",
]
