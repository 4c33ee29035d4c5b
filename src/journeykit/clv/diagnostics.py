"""What users of lifetimes, BTYD and CLVTools look at to judge a fit, as data for charts:
the tracking plot (expected vs actual repeat transactions of the whole base over time), P(alive)
and expected purchases over a frequency × recency grid, and one customer's P(alive) history.
The predicted-vs-actual-by-calibration-purchases table is ``holdout_check`` in value.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from journeykit.clv.rfm import FloatArray

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.clv.models._base import CountingModel


@dataclass(frozen=True, eq=False)
class Tracking:
    """Cumulative repeat transactions of the whole base at each time (FHL 2005, Fig. 1-2)."""

    times: FloatArray
    expected_cumulative: FloatArray
    actual_cumulative: FloatArray | None

    @property
    def expected_incremental(self) -> FloatArray:
        """Per interval (time[i-1], time[i]]: the weekly tracking chart's numbers."""
        return np.diff(self.expected_cumulative, prepend=0.0)

    @property
    def actual_incremental(self) -> FloatArray | None:
        a = self.actual_cumulative
        return None if a is None else np.diff(a, prepend=0.0)

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        df = pd.DataFrame(
            {
                "time": self.times,
                "expected_cumulative": self.expected_cumulative,
                "expected_incremental": self.expected_incremental,
            }
        )
        if self.actual_cumulative is not None:
            df["actual_cumulative"] = self.actual_cumulative
            df["actual_incremental"] = self.actual_incremental
        return df

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.to_pandas().to_dict("records")}


def expected_cumulative_transactions(
    model: CountingModel[Any],
    first_purchase: npt.ArrayLike,
    times: npt.ArrayLike,
    *,
    repeat_purchases: npt.ArrayLike | None = None,
) -> Tracking:
    """Σ over customers of E[X(τ − b_i)] at each τ of ``times``, b_i the customer's first
    purchase (all in the model's time unit from one origin; lifetimes'
    ``expected_cumulative_transactions``). With ``repeat_purchases`` (the time of every repeat
    purchase) the actual cumulative counts come alongside.

    Customers are grouped by first-purchase time, so the cost is (distinct first purchases) ×
    (times) model evaluations, not customers × times.
    """
    births, counts = np.unique(np.asarray(first_purchase, dtype=np.float64), return_counts=True)
    tau = np.asarray(times, dtype=np.float64)
    if tau.ndim != 1 or np.any(np.diff(tau) < 0):
        raise ValueError("times must be one increasing sequence")
    ages = tau[:, None] - births[None, :]
    active = ages > 0
    expected = np.zeros(ages.shape)
    expected[active] = model.expected_purchases_new(ages[active])
    cumulative = expected @ counts.astype(np.float64)
    actual = None
    if repeat_purchases is not None:
        bought = np.sort(np.asarray(repeat_purchases, dtype=np.float64))
        actual = np.searchsorted(bought, tau, side="right").astype(np.float64)
    return Tracking(tau, cumulative, actual)


@dataclass(frozen=True, eq=False)
class RecencyFrequencyMatrix:
    """``values[i, j]`` at recency ``recency[i]`` and frequency ``frequency[j]`` for a customer
    of age ``age`` (lifetimes' ``conditional_probability_alive_matrix`` layout)."""

    quantity: str
    frequency: FloatArray
    recency: FloatArray
    age: float
    values: FloatArray

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            self.values,
            index=pd.Index(self.recency, name="recency"),
            columns=pd.Index(self.frequency.astype(int), name="frequency"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "age": self.age,
            "frequency": self.frequency.tolist(),
            "recency": self.recency.tolist(),
            "values": self.values.tolist(),
        }


def _grid(
    max_frequency: int, max_recency: float, age: float | None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float]:
    t = float(max_recency if age is None else age)
    if max_recency > t:
        raise ValueError(f"max_recency {max_recency:g} is beyond the age {t:g}")
    f = np.arange(max_frequency + 1, dtype=np.float64)
    r = np.arange(int(np.floor(max_recency)) + 1, dtype=np.float64)
    ff, rr = np.meshgrid(f, r)
    return f, r, ff, rr, t


def probability_alive_matrix(
    model: CountingModel[Any], max_frequency: int, max_recency: float, *, age: float | None = None
) -> RecencyFrequencyMatrix:
    """P(alive) for frequency 0..max_frequency and whole recencies 0..max_recency at ``age``
    (default max_recency). Cells with frequency 0 and recency > 0 cannot occur; they hold the
    formula's value as lifetimes' matrix does."""
    f, r, ff, rr, t = _grid(max_frequency, max_recency, age)
    values = model.probability_alive_at(ff.ravel(), rr.ravel(), np.full(ff.size, t))
    return RecencyFrequencyMatrix("probability_alive", f, r, float(t), values.reshape(ff.shape))


def expected_purchases_matrix(
    model: CountingModel[Any],
    max_frequency: int,
    max_recency: float,
    *,
    horizon: float,
    age: float | None = None,
) -> RecencyFrequencyMatrix:
    """E[purchases in the next ``horizon``] on the same grid (lifetimes'
    ``plot_frequency_recency_matrix``)."""
    f, r, ff, rr, t = _grid(max_frequency, max_recency, age)
    values = model.expected_purchases_at(
        ff.ravel(), rr.ravel(), np.full(ff.size, t), horizon=horizon
    )
    return RecencyFrequencyMatrix("expected_purchases", f, r, float(t), values.reshape(ff.shape))


def probability_alive_history(
    model: CountingModel[Any], purchases: npt.ArrayLike, times: npt.ArrayLike
) -> FloatArray:
    """One customer's P(alive) at each of ``times`` from the times of their purchases (the
    first one is their birth; lifetimes' ``calculate_alive_path``). Before the first purchase
    the customer does not exist yet: NaN."""
    bought = np.sort(np.asarray(purchases, dtype=np.float64))
    if bought.size == 0:
        raise ValueError("need at least the first purchase")
    tau = np.asarray(times, dtype=np.float64)
    seen = np.searchsorted(bought, tau, side="right")  # purchases up to and including τ
    x = np.maximum(seen - 1, 0).astype(np.float64)
    t_x = np.where(seen > 0, bought[np.maximum(seen - 1, 0)] - bought[0], 0.0)
    age = tau - bought[0]
    out = np.full(tau.size, np.nan)
    born = age >= 0
    out[born] = model.probability_alive_at(x[born], t_x[born], age[born])
    return out
