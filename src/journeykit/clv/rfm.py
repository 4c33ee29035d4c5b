"""The RFM summary every CLV model reads: one row per customer.

Definitions follow Fader, Hardie & Lee (2005) and lifetimes: ``frequency`` (x) counts *repeat*
purchase periods, ``recency`` (t_x) is the time from the first to the last purchase, ``T`` is the
time from the first purchase to the end of calibration, and ``monetary_value`` (zbar) is the mean
value of the repeat purchases (0 when x = 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from journeykit.clv.errors import RFMError

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Column spellings found in the wild: lifetimes/PyMC-Marketing and Fader-Hardie/BTYD.
_ALIASES: Mapping[str, tuple[str, ...]] = {
    "customer_id": ("customer_id", "ID", "id", "cust"),
    "frequency": ("frequency", "x"),
    "recency": ("recency", "t_x"),
    "T": ("T",),
    "monetary_value": ("monetary_value", "zbar", "m_x"),
}


@dataclass(frozen=True, eq=False, kw_only=True)
class RFM:
    """Per-customer summary (frequency, recency, T[, monetary_value]); validated on creation.

    Recency and T share one time unit (days, weeks...); the fitted parameters are in that unit.
    Errors name the column and the 0-based position of the first bad customer.
    """

    frequency: IntArray
    recency: FloatArray
    T: FloatArray
    monetary_value: FloatArray | None = None
    customer_id: npt.NDArray[Any] | None = None
    time_unit: str | None = field(default=None)

    def __post_init__(self) -> None:
        _normalise_and_check(self)

    def __len__(self) -> int:
        return int(self.frequency.shape[0])

    def __repr__(self) -> str:
        unit = f", time_unit={self.time_unit!r}" if self.time_unit else ""
        money = ", monetary" if self.monetary_value is not None else ""
        return f"RFM({len(self)} customers{money}{unit})"

    def select(self, mask: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> RFM:
        """The customers picked by a boolean mask or index array (e.g. repeat buyers)."""

        def pick(a: npt.NDArray[Any] | None) -> npt.NDArray[Any] | None:
            return None if a is None else a[mask]

        return RFM(
            frequency=self.frequency[mask],
            recency=self.recency[mask],
            T=self.T[mask],
            monetary_value=pick(self.monetary_value),
            customer_id=pick(self.customer_id),
            time_unit=self.time_unit,
        )

    def repeat_buyers(self) -> RFM:
        """Customers with frequency > 0: the input of the Gamma-Gamma spend model."""
        return self.select(self.frequency > 0)

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        cols: dict[str, npt.NDArray[Any]] = {}
        if self.customer_id is not None:
            cols["customer_id"] = self.customer_id
        cols |= {"frequency": self.frequency, "recency": self.recency, "T": self.T}
        if self.monetary_value is not None:
            cols["monetary_value"] = self.monetary_value
        return pd.DataFrame(cols)

    def to_dict(self) -> dict[str, Any]:
        return {str(k): v.tolist() for k, v in self.to_pandas().items()}

    @classmethod
    def from_pandas(cls, df: pd.DataFrame, *, time_unit: str | None = None) -> RFM:
        """From a frame with either naming convention (frequency/recency/T or x/t_x/T)."""
        return _from_columns({str(c): df[c].to_numpy() for c in df.columns}, time_unit=time_unit)


def read_summary(path: str | Path, *, time_unit: str | None = None) -> RFM:
    """Read a summary file (CSV, or Parquet by suffix) in either convention.

    Accepts ``frequency, recency, T[, monetary_value]`` (lifetimes) and ``x, t_x, T[, zbar]``
    (Fader-Hardie); an ``ID`` or ``customer_id`` column is kept when present. Errors name the
    file, the line (header is line 1) and the column.
    """
    import pandas as pd

    path = Path(path)
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            df = pd.read_parquet(path)
            first_line = 0
        else:
            df = pd.read_csv(path, skipinitialspace=True)
            first_line = 2
    except (OSError, ValueError) as exc:
        raise RFMError(f"cannot read summary: {exc}", path=path) from exc
    columns = {str(c).strip(): df[c].to_numpy() for c in df.columns}
    try:
        return _from_columns(columns, time_unit=time_unit)
    except RFMError as exc:
        if exc.row is not None and first_line:
            raise RFMError(
                exc.message, column=exc.column, line=exc.row + first_line, path=path
            ) from None
        raise RFMError(exc.message, column=exc.column, row=exc.row, path=path) from None


def _from_columns(columns: Mapping[str, npt.NDArray[Any]], *, time_unit: str | None) -> RFM:
    found: dict[str, tuple[str, npt.NDArray[Any]]] = {}
    for name, aliases in _ALIASES.items():
        hit = next((a for a in aliases if a in columns), None)
        if hit is not None:
            found[name] = (hit, columns[hit])
    for needed in ("frequency", "recency", "T"):
        if needed not in found:
            spelled = " or ".join(repr(a) for a in _ALIASES[needed])
            raise RFMError(f"missing column {spelled} (have: {', '.join(columns)})", column=needed)
    numeric = {
        k: _as_float(name, values) for k, (name, values) in found.items() if k != "customer_id"
    }
    try:
        return RFM(
            frequency=numeric["frequency"],  # type: ignore[arg-type]  # checked and cast on creation
            recency=numeric["recency"],
            T=numeric["T"],
            monetary_value=numeric.get("monetary_value"),
            customer_id=found["customer_id"][1] if "customer_id" in found else None,
            time_unit=time_unit,
        )
    except RFMError as exc:  # name the column as the file spells it (x, not frequency)
        where = found.get(exc.column or "")
        as_written = where[0] if where is not None else exc.column
        raise RFMError(exc.message, column=as_written, row=exc.row) from None


def _as_float(column: str, values: npt.NDArray[Any]) -> FloatArray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        for i, v in enumerate(values):
            try:
                float(v)
            except (TypeError, ValueError):
                raise RFMError(f"{v!r} is not a number", column=column, row=i) from None
        raise


def _first_bad(bad: npt.NDArray[np.bool_]) -> int | None:
    return int(np.argmax(bad)) if bad.any() else None


def _require(bad: npt.NDArray[np.bool_], column: str, what: str, values: npt.NDArray[Any]) -> None:
    row = _first_bad(bad)
    if row is not None:
        n = int(bad.sum())
        more = f" ({n - 1} more rows like it)" if n > 1 else ""
        raise RFMError(f"{_shown(values[row])} {what}{more}", column=column, row=row)


def _shown(value: Any) -> str:
    """A value as the user wrote it: 31 not np.float64(31.0), 'two' quoted."""
    if isinstance(value, float | np.floating):
        return f"{float(value):g}"
    if isinstance(value, int | np.integer):
        return str(int(value))
    return repr(value)


def _normalise_and_check(rfm: RFM) -> None:
    raw_x = np.asarray(rfm.frequency)
    if raw_x.ndim != 1:
        raise RFMError(
            f"has shape {raw_x.shape}, expected one value per customer", column="frequency"
        )
    x = np.asarray(raw_x, dtype=np.float64)
    _require(
        ~np.isfinite(x) | (x < 0) | (x != np.floor(x)),
        "frequency",
        "is not a non-negative whole number",
        raw_x,
    )
    t_x = _float_column(rfm.recency, "recency", len(x))
    age = _float_column(rfm.T, "T", len(x))
    _require(~np.isfinite(age) | (age < 0), "T", "is not a finite number >= 0", age)
    _require(~np.isfinite(t_x) | (t_x < 0), "recency", "is not a finite number >= 0", t_x)
    _require(t_x > age * (1 + 1e-12), "recency", "is greater than T (the customer's age)", t_x)
    _require((x == 0) & (t_x != 0), "recency", "must be 0 when frequency is 0", t_x)
    object.__setattr__(rfm, "frequency", _frozen(x.astype(np.int64)))
    object.__setattr__(rfm, "recency", _frozen(t_x))
    object.__setattr__(rfm, "T", _frozen(age))
    if rfm.monetary_value is not None:
        m = _float_column(rfm.monetary_value, "monetary_value", len(x))
        _require(~np.isfinite(m) | (m < 0), "monetary_value", "is not a finite number >= 0", m)
        _require(
            (x > 0) & (m <= 0),
            "monetary_value",
            "must be > 0 for a customer with repeat purchases",
            m,
        )
        object.__setattr__(rfm, "monetary_value", _frozen(m))
    if rfm.customer_id is not None:
        ids = np.asarray(rfm.customer_id)
        if ids.shape != x.shape:
            raise RFMError(f"has {ids.shape[0]} rows, frequency has {len(x)}", column="customer_id")
        object.__setattr__(rfm, "customer_id", _frozen(ids))


def _float_column(values: Sequence[float] | FloatArray, column: str, n: int) -> FloatArray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] != n:
        raise RFMError(f"has shape {a.shape}, expected ({n},) like frequency", column=column)
    return a


def _frozen(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    view = a.view()
    view.flags.writeable = False
    return view
