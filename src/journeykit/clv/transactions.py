"""Transactions (customer, timestamp[, value]) to the RFM summary, vectorised.

Same definitions as lifetimes' ``summary_data_from_transaction_data`` and
``calibration_and_holdout_data``: purchases in the same period (``freq``) collapse into one (their
values add up), ``frequency`` counts the periods with a purchase after the first one, ``recency``
is last minus first period, ``T`` is the end of calibration minus the first period, and
``monetary_value`` is the mean value of the repeat periods (0 when there are none).

The CDNOW summary shipped with lifetimes (``cdnow_customers_summary.csv``) is reproduced by
``freq="D", time_unit="W", calibration_end="1997-09-30"``: the end date is *inclusive* (13 sample
purchases fall on 30 Sep 1997 and count), same-day purchases are merged (80 customers differ
otherwise), and times are days / 7; the shipped file rounds to 2 decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from journeykit.clv.errors import RFMError
from journeykit.clv.rfm import RFM, FloatArray, IntArray

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

Freq = Literal["H", "D", "W", "M"]
_DAYS: dict[str, float] = {"H": 1 / 24, "D": 1.0, "W": 7.0}
_UNITS = {"H": "h", "D": "D", "W": "D", "M": "M"}  # numpy datetime unit per freq


@dataclass(frozen=True, eq=False)
class CalibrationHoldout:
    """A calibration summary plus what the same customers did in the holdout period."""

    calibration: RFM
    frequency_holdout: IntArray
    monetary_holdout: FloatArray | None
    duration_holdout: float

    def to_pandas(self) -> pd.DataFrame:
        df = self.calibration.to_pandas().add_suffix("_cal")
        df["frequency_holdout"] = self.frequency_holdout
        if self.monetary_holdout is not None:
            df["monetary_value_holdout"] = self.monetary_holdout
        df["duration_holdout"] = self.duration_holdout
        return df


@dataclass(frozen=True, eq=False)
class _Periods:
    codes: IntArray  # customer code per transaction (into `ids`, sorted)
    ids: npt.NDArray[Any]
    period: IntArray
    value: FloatArray | None


def rfm_from_transactions(
    data: pd.DataFrame | pa.Table | Mapping[str, npt.ArrayLike],
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str | None = None,
    *,
    freq: Freq = "D",
    time_unit: Freq | None = None,
    calibration_end: Any = None,
    observation_end: Any = None,
    datetime_format: str | None = None,
) -> RFM:
    """Summarise a transaction table (pandas, Arrow or a mapping of column name to array) into
    an RFM summary.

    Parameters
    ----------
    data
        One row per purchase; a milestone log (customer_id, timestamp, value) works as is.
    freq
        The period in which purchases collapse into one: hour, day, week (Monday-Sunday, as
        pandas ``W``) or calendar month.
    time_unit
        Unit of recency and T (default: ``freq``). ``freq="D", time_unit="W"`` gives weeks
        measured to the day, the convention of the CDNOW papers.
    calibration_end, observation_end
        The summary covers purchases up to ``calibration_end`` (inclusive: its whole period
        counts), else up to ``observation_end``, else up to the last purchase; T is measured
        to that end. Customers whose first purchase is later are left out.
    """
    periods = _read_periods(
        data, customer_id_col, datetime_col, monetary_col, freq, datetime_format
    )
    end = calibration_end if calibration_end is not None else observation_end
    end_p = _end_period(end, periods, freq, datetime_format)
    rfm, _ = _summarise(periods, end_p, freq, time_unit or freq)
    return rfm


def calibration_holdout(
    data: pd.DataFrame | pa.Table | Mapping[str, npt.ArrayLike],
    customer_id_col: str = "customer_id",
    datetime_col: str = "timestamp",
    monetary_col: str | None = None,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    freq: Freq = "D",
    time_unit: Freq | None = None,
    datetime_format: str | None = None,
) -> CalibrationHoldout:
    """Calibration summary up to ``calibration_end`` and holdout purchase periods after it.

    Holdout counts purchase periods in (calibration_end, observation_end] for customers seen in
    calibration, as lifetimes' ``calibration_and_holdout_data``; new customers are not counted.
    """
    periods = _read_periods(
        data, customer_id_col, datetime_col, monetary_col, freq, datetime_format
    )
    cal_p = _end_period(calibration_end, periods, freq, datetime_format)
    obs_p = _end_period(observation_end, periods, freq, datetime_format)
    if obs_p < cal_p:
        raise RFMError("observation_end is before calibration_end", column=datetime_col)
    unit = time_unit or freq
    rfm, cal_codes = _summarise(periods, cal_p, freq, unit)
    in_holdout = (periods.period > cal_p) & (periods.period <= obs_p)
    counts, values = _distinct_periods(periods, in_holdout)
    freq_h = counts[cal_codes]
    money_h = None
    if values is not None:
        money_h = np.divide(values[cal_codes], freq_h, out=np.zeros(len(freq_h)), where=freq_h > 0)
    duration = (obs_p - cal_p) * _scale(freq, unit)
    return CalibrationHoldout(rfm, freq_h, money_h, float(duration))


def _summarise(p: _Periods, end_p: int, freq: str, unit: str) -> tuple[RFM, IntArray]:
    keep = p.period <= end_p
    everything = bool(keep.all())  # the usual case: no copies of the columns
    codes, period = (p.codes, p.period) if everything else (p.codes[keep], p.period[keep])
    if codes.size == 0:
        raise RFMError("no transactions on or before the end of calibration")
    pmin = int(period.min())
    span = int(period.max()) - pmin + 1
    keys = codes * span
    keys += period
    keys -= pmin
    keys = _sorted_unique(keys)
    cust, per = keys // span, keys % span + pmin
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    ends = np.r_[starts[1:], keys.size] - 1
    first, last = per[starts], per[ends]
    frequency = (ends - starts).astype(np.int64)
    scale = _scale(freq, unit)
    money = None
    if p.value is not None:
        value = p.value if everything else p.value[keep]
        first_by_code = np.zeros(p.ids.size, np.int64)
        first_by_code[cust[starts]] = first
        in_first = period == first_by_code[codes]
        total = np.bincount(codes, weights=value, minlength=p.ids.size)
        first_total = np.bincount(codes[in_first], weights=value[in_first], minlength=p.ids.size)
        repeat_total = (total - first_total)[cust[starts]]
        money = np.divide(repeat_total, frequency, out=np.zeros(starts.size), where=frequency > 0)
    rfm = RFM(
        frequency=frequency,
        recency=(last - first) * scale,
        T=np.asarray((end_p - first) * scale, dtype=np.float64),
        monetary_value=money,
        customer_id=p.ids[cust[starts]],
        time_unit=unit,
    )
    return rfm, cust[starts]


def _distinct_periods(
    p: _Periods, mask: npt.NDArray[np.bool_]
) -> tuple[IntArray, FloatArray | None]:
    n = p.ids.size
    codes, period = p.codes[mask], p.period[mask]
    if codes.size == 0:
        return np.zeros(n, np.int64), (np.zeros(n) if p.value is not None else None)
    pmin = int(period.min())
    span = int(period.max()) - pmin + 1
    keys = _sorted_unique(codes * span + (period - pmin))
    counts = np.bincount(keys // span, minlength=n).astype(np.int64)
    if p.value is None:
        return counts, None
    return counts, np.bincount(codes, weights=p.value[mask], minlength=n).astype(np.float64)


def _sorted_unique(keys: IntArray) -> IntArray:
    """Sorts ``keys`` in place. A plain sort: at 10M rows np.unique (hash-based in numpy >=
    2.3) is ~15x slower, and an argsort for an inverse ~2x; the values are summed per customer
    with bincount instead."""
    keys.sort()
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


def _scale(freq: str, unit: str) -> float:
    if freq == unit:
        return 1.0
    if freq == "M" or unit == "M":
        raise RFMError(f"cannot express {freq!r} periods in {unit!r}: months differ in length")
    return _DAYS[freq] / _DAYS[unit]


def _read_periods(
    data: pd.DataFrame | pa.Table | Mapping[str, npt.ArrayLike],
    id_col: str,
    dt_col: str,
    value_col: str | None,
    freq: str,
    fmt: str | None,
) -> _Periods:
    if freq not in ("H", "D", "W", "M"):
        raise RFMError(f"freq must be one of H, D, W, M, not {freq!r}")
    columns = _columns(data, [id_col, dt_col] + ([value_col] if value_col else []))
    codes, uniques = _factorize(columns[id_col], id_col)
    stamps = _to_datetime64(columns[dt_col], dt_col, fmt)
    value = None
    if value_col is not None:
        value = np.asarray(columns[value_col], dtype=np.float64)
        bad = ~np.isfinite(value)
        if bad.any():
            raise RFMError(
                "value is not a finite number", column=value_col, row=int(np.argmax(bad))
            )
    return _Periods(codes, np.asarray(uniques), _to_period(stamps, freq), value)


def _factorize(ids: npt.NDArray[Any], column: str) -> tuple[IntArray, npt.NDArray[Any]]:
    """Codes into the sorted distinct ids. Integer ids stay in numpy (importing pandas costs
    more than summarising 100k customers); anything else goes through pandas' hash table."""
    if ids.dtype.kind in "iu":
        return _factorize_integers(ids)
    import pandas as pd

    missing = pd.isna(ids)
    if missing.any():
        raise RFMError("customer id is missing", column=column, row=int(np.argmax(missing)))
    codes, uniques = pd.factorize(ids, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(uniques)


def _factorize_integers(ids: npt.NDArray[Any]) -> tuple[IntArray, npt.NDArray[Any]]:
    if ids.size == 0:
        return np.zeros(0, np.int64), ids
    low, high = int(ids.min()), int(ids.max())
    if high - low > 4 * ids.size:  # sparse ids (hashes, phone numbers): sort
        uniques, codes = np.unique(ids, return_inverse=True)
        return codes.astype(np.int64, copy=False), uniques
    # Dense ids (counters): a table over the range, no sort; same codes as a sorted unique.
    offset = (ids - low).astype(np.intp, copy=False)
    seen = np.zeros(high - low + 1, np.bool_)
    seen[offset] = True
    code_of = np.cumsum(seen, dtype=np.int64) - 1
    uniques = (np.flatnonzero(seen) + low).astype(ids.dtype, copy=False)
    return code_of[offset], uniques


def _columns(data: Any, names: list[str]) -> dict[str, npt.NDArray[Any]]:
    if isinstance(data, Mapping):
        have = [str(k) for k in data]
    elif hasattr(data, "column_names"):  # Arrow
        have = list(data.column_names)
    else:
        have = list(data.columns)
    for name in names:
        if name not in have:
            raise RFMError(f"missing column (have: {', '.join(map(str, have))})", column=name)
    if isinstance(data, Mapping):
        columns = {n: np.asarray(data[n]) for n in names}
        lengths = {c.shape for c in columns.values()}
        if len(lengths) > 1 or any(c.ndim != 1 for c in columns.values()):
            shapes = ", ".join(f"{n} {c.shape}" for n, c in columns.items())
            raise RFMError(f"columns must be 1-d arrays of one length, not {shapes}")
        return columns
    if hasattr(data, "column_names"):
        return {n: data.column(n).to_numpy() for n in names}
    return {n: data[n].to_numpy() for n in names}


def _to_datetime64(values: npt.NDArray[Any], column: str, fmt: str | None) -> npt.NDArray[Any]:
    if np.issubdtype(values.dtype, np.datetime64):
        stamps = values  # any unit: _to_period casts it once
    else:
        if fmt is not None and values.dtype.kind in "iu":
            values = values.astype(str)
        import pandas as pd

        try:
            parsed = pd.to_datetime(pd.Series(values), format=fmt)
        except (ValueError, TypeError) as exc:
            raise RFMError(f"cannot read timestamps: {exc}", column=column) from None
        if parsed.dt.tz is not None:  # local wall time decides which day a purchase is on
            parsed = parsed.dt.tz_localize(None)
        stamps = parsed.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(stamps)
    if missing.any():
        raise RFMError("timestamp is missing", column=column, row=int(np.argmax(missing)))
    return stamps


def _to_period(stamps: npt.NDArray[Any], freq: str) -> IntArray:
    """Periods since 1970: one cast (numpy floors, as pandas' periods do; no copy for day
    stamps counted in days)."""
    periods = stamps.astype(f"datetime64[{_UNITS[freq]}]", copy=False).view(np.int64)
    # 1970-01-01 is a Thursday; +3 makes weeks run Monday-Sunday like pandas "W".
    return (periods + 3) // 7 if freq == "W" else periods


def _end_period(end: Any, p: _Periods, freq: str, fmt: str | None) -> int:
    if end is None:
        return int(p.period.max())
    given = np.asarray([end])  # a numpy datetime needs no parsing (nor pandas)
    if not np.issubdtype(given.dtype, np.datetime64):
        given = np.asarray([end], dtype=object)
    stamp = _to_datetime64(given, "calibration_end/observation_end", fmt)
    return int(_to_period(stamp, freq)[0])
