"""Fit/predict CLV models: BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, Gamma-Gamma and sBG."""

from typing import Any

from journeykit.clv.models._base import FitResult, Model
from journeykit.clv.models.beta_geo import BetaGeo, BetaGeoParams, ModifiedBetaGeo
from journeykit.clv.models.beta_geo_beta_binom import BetaGeoBetaBinom, BetaGeoBetaBinomParams
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
    "bgbb": BetaGeoBetaBinom,
    "gg": GammaGamma,
    "sbg": ShiftedBetaGeometric,
}
MODEL_HELP = (
    "bgnbd (BG/NBD), mbgnbd (MBG/NBD), pnbd (Pareto/NBD), bgbb (BG/BB, discrete periods), "
    "gg (Gamma-Gamma), sbg (renewals)"
)


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
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
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
