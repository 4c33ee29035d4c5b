"""Customer lifetime value: RFM summaries, the simple formula and probabilistic models.

scipy (the ``clv`` extra) is imported only when a model is fitted or predicts; the journey
functions (which need the analytics and Ibis) and the transaction summaries (pandas) only when
first used.
"""

from typing import TYPE_CHECKING

from journeykit._lazy import lazy_exports

if TYPE_CHECKING:
    from journeykit.clv.journey import (
        GroupValue,
        JourneyCLV,
        JourneyCustomers,
        clv_by_journey,
        journey_customers,
        simple_clv_by,
    )
    from journeykit.clv.transactions import (
        CalibrationHoldout,
        calibration_holdout,
        rfm_from_transactions,
    )

from journeykit.clv._optim import FitDiagnosis
from journeykit.clv.errors import ConvergenceError, ModelFileError, NotFittedError, RFMError
from journeykit.clv.models import (
    BetaGeo,
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
    "BetaGeoParams",
    "CLVResult",
    "CalibrationHoldout",
    "ConvergenceError",
    "CustomerValue",
    "Factor",
    "FitDiagnosis",
    "FitResult",
    "GammaGamma",
    "GammaGammaParams",
    "GroupValue",
    "HoldoutBucket",
    "HoldoutCheck",
    "JourneyCLV",
    "JourneyCustomers",
    "ModelFileError",
    "ModifiedBetaGeo",
    "NotFittedError",
    "ParetoNBD",
    "ParetoNBDParams",
    "RFMError",
    "Renewals",
    "ShiftedBetaGeoParams",
    "ShiftedBetaGeometric",
    "SimpleCLV",
    "SimpleCLVByGroup",
    "calibration_holdout",
    "clv_by_journey",
    "customer_value",
    "discounted_clv",
    "holdout_check",
    "journey_customers",
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

# Names that need pandas (and, for the journey ones, the analytics): imported on first use.
__getattr__ = lazy_exports(__name__, {
    **dict.fromkeys(("GroupValue", "JourneyCLV", "JourneyCustomers", "clv_by_journey",
                     "journey_customers", "simple_clv_by"), "journey"),
    **dict.fromkeys(("CalibrationHoldout", "calibration_holdout", "rfm_from_transactions"),
                    "transactions"),
})  # fmt: skip
