"""Transactions -> RFM, against the shipped CDNOW summaries; and readers' error messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from journeykit.clv import RFM, RFMError, calibration_holdout, read_summary, rfm_from_transactions
from journeykit.errors import JourneykitError

CDNOW = {"freq": "D", "time_unit": "W", "calibration_end": "19970930", "datetime_format": "%Y%m%d"}


def _cdnow_rfm(tx: pd.DataFrame | pa.Table) -> RFM:
    return rfm_from_transactions(tx, "customer_index", "date", "value", **CDNOW)  # type: ignore[arg-type]


def test_summary_from_transactions_equals_shipped_files(
    cdnow_transactions: pd.DataFrame, cdnow_dir: Path
) -> None:
    got = _cdnow_rfm(cdnow_transactions)
    plain = read_summary(cdnow_dir / "cdnow_customers_summary.csv")
    with_tx = read_summary(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")
    for shipped in (plain, with_tx):
        np.testing.assert_array_equal(got.customer_id, shipped.customer_id)
        np.testing.assert_array_equal(got.frequency, shipped.frequency)
        # the shipped files round to 2 decimals
        np.testing.assert_allclose(got.recency, shipped.recency, atol=0.005 + 1e-9)
        np.testing.assert_allclose(got.T, shipped.T, atol=0.005 + 1e-9)
    assert with_tx.monetary_value is not None and got.monetary_value is not None
    np.testing.assert_allclose(got.monetary_value, with_tx.monetary_value, atol=0.005 + 1e-9)


def test_arrow_input_gives_the_same_summary(cdnow_transactions: pd.DataFrame) -> None:
    a = _cdnow_rfm(cdnow_transactions)
    b = _cdnow_rfm(pa.Table.from_pandas(cdnow_transactions))
    np.testing.assert_array_equal(a.frequency, b.frequency)
    np.testing.assert_array_equal(a.T, b.T)


def test_hand_computed_summary_with_same_day_merge_and_weeks() -> None:
    log = pd.DataFrame(
        {
            "customer_id": ["ana", "ana", "ana", "ana", "ben", "cy"],
            "timestamp": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 18:00",
                    "2024-01-08 00:00",
                    "2024-01-15 00:00",
                    "2024-01-03 00:00",
                    "2024-02-01 00:00",
                ]
            ),
            "value": [10.0, 5.0, 20.0, 40.0, 7.0, 1.0],
        }
    )
    rfm = rfm_from_transactions(log, monetary_col="value", calibration_end="2024-01-29")
    assert list(rfm.customer_id) == ["ana", "ben"]  # cy first bought after calibration
    assert list(rfm.frequency) == [2, 0]
    assert list(rfm.recency) == [14.0, 0.0]
    assert list(rfm.T) == [28.0, 26.0]
    assert list(rfm.monetary_value) == [30.0, 0.0]  # type: ignore[arg-type]
    weekly = rfm_from_transactions(log, freq="W", calibration_end="2024-01-29")
    # Mon 2024-01-29 ends calibration; its whole week counts, so cy (Thu 1 Feb) is in, aged 0.
    assert list(weekly.customer_id) == ["ana", "ben", "cy"]
    assert list(weekly.recency) == [2.0, 0.0, 0.0] and list(weekly.T) == [4.0, 4.0, 0.0]


def test_calibration_holdout_counts_holdout_periods(cdnow_transactions: pd.DataFrame) -> None:
    split = calibration_holdout(
        cdnow_transactions,
        "customer_index",
        "date",
        "value",
        calibration_end="19970930",
        observation_end="19980630",
        freq="D",
        time_unit="W",
        datetime_format="%Y%m%d",
    )
    assert split.duration_holdout == pytest.approx(39.0)
    tx = cdnow_transactions.assign(
        day=pd.to_datetime(cdnow_transactions.date.astype(str), format="%Y%m%d")
    )
    late = tx[tx.day > "1997-09-30"].groupby("customer_index").day.nunique()
    expected = late.reindex(split.calibration.customer_id, fill_value=0).to_numpy()
    np.testing.assert_array_equal(split.frequency_holdout, expected)
    assert split.to_pandas().shape[0] == 2357


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "summary.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("ID,x,T\n1,2,30\n", "summary.csv, column 'recency': missing column"),
        ("ID,x,t_x,T\n1,2,3,30\n2,-1,0,30\n", "summary.csv, line 3, column 'x'"),
        ("frequency,recency,T\n1,2,30\n2,31,30\n", "summary.csv, line 3, column 'recency'"),
        ("frequency,recency,T\n1.5,2,30\n", "summary.csv, line 2, column 'frequency'"),
        ("x,t_x,T,zbar\n1,2,30,0\n", "summary.csv, line 2, column 'zbar'"),
        ("x,t_x,T\n1,two,30\n", "summary.csv, line 2, column 't_x'"),
    ],
)
def test_bad_summary_files_name_file_row_and_column(tmp_path: Path, text: str, where: str) -> None:
    with pytest.raises(JourneykitError) as err:
        read_summary(_write(tmp_path, text))
    assert str(err.value).startswith(where), str(err.value)
    assert isinstance(err.value, RFMError)


def test_in_memory_rfm_is_validated() -> None:
    with pytest.raises(RFMError, match=r"recency.*must be 0 when frequency is 0"):
        RFM(frequency=np.array([0]), recency=np.array([1.0]), T=np.array([5.0]))
    rfm = RFM(frequency=np.array([1, 0]), recency=np.array([1.0, 0.0]), T=np.array([5.0, 3.0]))
    assert rfm.frequency.dtype == np.int64 and not rfm.T.flags.writeable


def test_transaction_errors_name_the_column() -> None:
    log = pd.DataFrame({"customer_id": ["a", None], "timestamp": ["2024-01-01", "2024-01-02"]})
    with pytest.raises(RFMError, match="row 1, column 'customer_id'"):
        rfm_from_transactions(log)
    with pytest.raises(RFMError, match="column 'when': missing column"):
        rfm_from_transactions(log.fillna("b"), datetime_col="when")


@pytest.mark.parametrize(
    ("spread", "freq"), [(3, "D"), (10**12, "D"), (3, "H"), (3, "W"), (3, "M")]
)  # dense counters and sparse (hash-like) ids; every period
def test_numpy_columns_give_the_same_summary_as_pandas(spread: int, freq: str) -> None:
    """Integer ids and datetime64 stamps in plain arrays take a numpy path (no pandas import);
    it must agree with the pandas path (timestamps as text) row for row, before 1970 too."""
    rng = np.random.default_rng(5)
    n = 5_000
    ids = rng.integers(0, 1_000, n) * spread - 7
    stamps = np.datetime64("1969-09-01", "s") + rng.integers(0, 200 * 86_400, n).astype(
        "timedelta64[s]"
    )
    values = rng.gamma(2.0, 10.0, n)
    columns = {"customer_id": ids, "timestamp": stamps, "value": values}
    end = "1970-02-28"
    fast = rfm_from_transactions(columns, monetary_col="value", observation_end=end, freq=freq)  # type: ignore[arg-type]
    slow = rfm_from_transactions(
        pd.DataFrame(columns | {"timestamp": stamps.astype(str)}).astype({"customer_id": object}),
        monetary_col="value",
        observation_end=end,
        freq=freq,  # type: ignore[arg-type]
    )
    assert fast.customer_id is not None and fast.customer_id.dtype == np.int64
    np.testing.assert_array_equal(fast.customer_id, slow.customer_id.astype(np.int64))  # type: ignore[union-attr]
    for name in ("frequency", "recency", "T", "monetary_value"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name))


def test_numpy_columns_must_be_one_length() -> None:
    with pytest.raises(RFMError, match="one length"):
        rfm_from_transactions(
            {"customer_id": np.arange(3), "timestamp": np.arange(2).astype("datetime64[D]")}
        )
