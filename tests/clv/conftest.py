"""CDNOW fixtures: from tests/data (a copy), else the shared folder beside the repo root."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from journeykit.clv import RFM, read_summary

_HERE = Path(__file__).resolve()
_CANDIDATES = (
    _HERE.parents[1] / "data" / "cdnow",
    _HERE.parents[2] / ".." / "shared" / "data" / "cdnow",
)


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    for folder in _CANDIDATES:
        if (folder / "cdnow_customers_summary_with_transactions.csv").exists():
            return folder
    pytest.skip(f"CDNOW data not found in {', '.join(str(c) for c in _CANDIDATES)}")


@pytest.fixture(scope="session")
def cdnow(cdnow_dir: Path) -> RFM:
    """x, t_x, T (weeks, 39-week calibration) and zbar for the 2,357-customer sample."""
    return read_summary(cdnow_dir / "cdnow_customers_summary_with_transactions.csv", time_unit="W")


@pytest.fixture(scope="session")
def cdnow_transactions(cdnow_dir: Path) -> pd.DataFrame:
    return pd.read_csv(
        cdnow_dir / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer_id", "customer_index", "date", "cds", "value"],
    )
