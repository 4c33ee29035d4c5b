"""Packaging promises: lazy scipy, JSON that refuses the wrong model, convergence reporting."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from journeykit.clv import (
    RFM,
    BetaGeo,
    BetaGeoParams,
    ConvergenceError,
    ModelFileError,
    ParetoNBD,
    simulate_beta_geo,
)


def test_importing_journeykit_clv_does_not_import_scipy() -> None:
    code = "import sys, journeykit, journeykit.clv; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_clv_from_numpy_transactions_loads_only_what_it_needs() -> None:
    """Start-up is most of a small CLV run (docs/benchmarks.md): transactions as arrays to
    per-customer CLV must not load pandas, scipy.stats or the journey schema (pydantic)."""
    code = """
import sys
import numpy as np
from journeykit.clv import BetaGeo, GammaGamma, discounted_clv, rfm_from_transactions
rng = np.random.default_rng(1)
ids = rng.integers(0, 3_000, 8_000)
days = np.datetime64("2024-01-01") + rng.integers(0, 300, 8_000).astype("timedelta64[D]")
rfm = rfm_from_transactions(
    {"customer_id": ids, "timestamp": days, "value": rng.gamma(2.0, 10.0, 8_000)},
    monetary_col="value",
    observation_end=np.datetime64("2024-12-31"),
)
clv = discounted_clv(BetaGeo().fit(rfm), GammaGamma().fit(rfm), rfm).clv
assert np.isfinite(clv).all()
print(sorted(m for m in ("pandas", "scipy.stats", "journeykit.journey") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_from_json_refuses_another_model() -> None:
    text = BetaGeo.from_params(BetaGeoParams(0.2, 4.0, 0.8, 2.4)).to_json()
    with pytest.raises(ModelFileError, match="holds a 'BetaGeo' model, not 'ParetoNBD'"):
        ParetoNBD.from_json(text)
    with pytest.raises(ModelFileError, match="not a saved BetaGeo model"):
        BetaGeo.from_json('{"model": "BetaGeo", "params": {"r": 1}}')


def test_non_convergence_is_reported_and_raised_on_request() -> None:
    # Nobody ever repeats: the BG/NBD likelihood does not depend on a and b, so the Hessian is
    # singular (and r, alpha run off). lifetimes would raise; we report.
    n = 500
    rfm = RFM(frequency=np.zeros(n, int), recency=np.zeros(n), T=np.linspace(10, 40, n))
    model = BetaGeo().fit(rfm)
    assert model.diagnosis_ is not None and not model.converged_
    assert not model.diagnosis_.hessian_positive_definite or model.diagnosis_.at_bound
    with pytest.raises(ConvergenceError, match="did not converge"):
        model.check_converged()
    assert model.to_dict()["diagnosis"]["converged"] is False


def test_penalizer_shrinks_log_parameters() -> None:
    rfm = simulate_beta_geo(3000, BetaGeoParams(0.5, 6.0, 0.9, 3.0), 30.0, seed=14)
    free, shrunk = BetaGeo().fit(rfm), BetaGeo(penalizer=0.1).fit(rfm)
    assert np.sum(np.log(shrunk.params_) ** 2) < np.sum(np.log(free.params_) ** 2)
