"""Customer lifetime value: RFM summaries, the simple formula and probabilistic models.

scipy (the ``clv`` extra) is imported only when a model is fitted or predicts; the journey
functions (which need the analytics and Ibis) and the transaction-log readers (pandas) only when
first used, so a script that fits a summary does not pay for them at start-up.
"""

from typing import Any

from journeykit.clv._optim import FitDiagnosis
from journeykit.clv.compare import LikelihoodRatio, likelihood_ratio_test
from journeykit.clv.covariates import BetaGeoCovariates, ParetoNBDCovariates
from journeykit.clv.diagnostics import (
    RecencyFrequencyMatrix,
    Tracking,
    expected_cumulative_transactions,
    expected_purchases_matrix,
    probability_alive_history,
    probability_alive_matrix,
)
from journeykit.clv.errors import ConvergenceError, ModelFileError, NotFittedError, RFMError
from journeykit.clv.models import (
    BetaGeo,
    BetaGeoBetaBinom,
    BetaGeoBetaBinomParams,
    BetaGeoParams,
    FitResult,
    GammaGamma,
    GammaGammaParams,
    ModifiedBetaGeo,
    ParetoNBD,
    ParetoNBDParams,
    Renewals,
    ShiftedBetaGeometric,
    ShiftedBetaGeoParams,
    read_renewals,
)
from journeykit.clv.rfm import RFM, read_summary
from journeykit.clv.simple import (
    Factor,
    SimpleCLV,
    SimpleCLVByGroup,
    simple_clv,
    simple_clv_by_group,
)
from journeykit.clv.simulate import (
    simulate_beta_geo,
    simulate_constant_churn,
    simulate_pareto_nbd,
    simulate_renewals,
    simulate_spend,
)
from journeykit.clv.uncertainty import CLVIntervals, GroupInterval, clv_intervals
from journeykit.clv.value import (
    CLVResult,
    CustomerValue,
    HoldoutBucket,
    HoldoutCheck,
    customer_value,
    discounted_clv,
    holdout_check,
)

__all__ = [
    "RFM",
    "BetaGeo",
    "BetaGeoBetaBinom",
    "BetaGeoBetaBinomParams",
    "BetaGeoCovariates",
    "BetaGeoParams",
    "CLVIntervals",
    "CLVResult",
    "CalibrationHoldout",
    "ConvergenceError",
    "CustomerValue",
    "Factor",
    "FitDiagnosis",
    "FitResult",
    "GammaGamma",
    "GammaGammaParams",
    "GroupInterval",
    "GroupValue",
    "HoldoutBucket",
    "HoldoutCheck",
    "JourneyCLV",
    "JourneyCustomers",
    "LikelihoodRatio",
    "ModelFileError",
    "ModifiedBetaGeo",
    "NotFittedError",
    "ParetoNBD",
    "ParetoNBDCovariates",
    "ParetoNBDParams",
    "RFMError",
    "RecencyFrequencyMatrix",
    "Renewals",
    "ShiftedBetaGeoParams",
    "ShiftedBetaGeometric",
    "SimpleCLV",
    "SimpleCLVByGroup",
    "Tracking",
    "calibration_holdout",
    "clv_by_journey",
    "clv_intervals",
    "customer_value",
    "discounted_clv",
    "expected_cumulative_transactions",
    "expected_purchases_matrix",
    "holdout_check",
    "journey_customers",
    "likelihood_ratio_test",
    "probability_alive_history",
    "probability_alive_matrix",
    "read_renewals",
    "read_summary",
    "rfm_from_transactions",
    "simple_clv",
    "simple_clv_by",
    "simple_clv_by_group",
    "simulate_beta_geo",
    "simulate_constant_churn",
    "simulate_pareto_nbd",
    "simulate_renewals",
    "simulate_spend",
]

_JOURNEY = ("GroupValue", "JourneyCLV", "JourneyCustomers", "clv_by_journey",
            "journey_customers", "simple_clv_by")  # fmt: skip
_TRANSACTIONS = ("CalibrationHoldout", "calibration_holdout", "rfm_from_transactions")


def __getattr__(name: str) -> Any:
    if name in _JOURNEY:
        from journeykit.clv import journey

        return getattr(journey, name)
    if name in _TRANSACTIONS:
        from journeykit.clv import transactions

        return getattr(transactions, name)
    raise AttributeError(f"module 'journeykit.clv' has no attribute {name!r}")
