"""What every CLV model shares: fitted state, the typed fit result, JSON persistence, chunking."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, Self, TypeVar

import numpy as np
import numpy.typing as npt

from journeykit.clv._optim import FitDiagnosis, Optimum
from journeykit.clv.errors import ModelFileError, NotFittedError
from journeykit.clv.rfm import RFM, FloatArray, IntArray

if TYPE_CHECKING:
    import pandas as pd

P = TypeVar("P", bound=NamedTuple)

CHUNK = 1 << 18  # rows per prediction chunk: bounds temporaries to a few MB per array
SCREEN_SIZE = 20_000  # starts are compared on a subsample this big, then polished on all


@dataclass(frozen=True)
class FitResult:
    """A fit as plain data: the same shape for the CLI, the web API and reports."""

    model: str
    params: dict[str, float]
    standard_errors: dict[str, float] | None
    log_likelihood: float
    customers: int
    penalizer: float
    diagnosis: FitDiagnosis | None = None
    time_unit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "params": self.params,
            "standard_errors": self.standard_errors,
            "log_likelihood": self.log_likelihood,
            "customers": self.customers,
            "penalizer": self.penalizer,
            "time_unit": self.time_unit,
            "diagnosis": self.diagnosis.to_dict() if self.diagnosis else None,
        }

    def rows(self) -> list[dict[str, Any]]:
        """One row per parameter: the table and CSV views."""
        se = self.standard_errors or {}
        return [
            {"param": k, "estimate": v, "standard_error": se.get(k, float("nan"))}
            for k, v in self.params.items()
        ]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        se = self.standard_errors or {}
        return pd.DataFrame(
            {
                "estimate": self.params,
                "standard_error": {k: se.get(k, np.nan) for k in self.params},
            }
        ).rename_axis("param")


@dataclass(frozen=True, eq=False)
class Summary:
    """An RFM summary prepared for likelihoods: identical customers merged into weights."""

    x: IntArray
    t_x: FloatArray
    T: FloatArray
    weight: FloatArray
    customers: float
    xf: FloatArray = field(init=False)
    weight_by_x: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "xf", self.x.astype(np.float64))
        object.__setattr__(self, "weight_by_x", self.by_x(self.weight))

    @property
    def x_domain(self) -> FloatArray:
        """0..max(x): special functions are evaluated once per distinct frequency, then indexed."""
        return np.arange(self.weight_by_x.size, dtype=np.float64)

    def by_x(self, values: FloatArray) -> FloatArray:
        top = int(self.x.max()) + 1 if self.x.size else 1
        return np.bincount(self.x, weights=values, minlength=top).astype(np.float64)

    def subsample(self, size: int) -> Summary:
        """Every k-th row: deterministic, and keeps the mix of frequencies."""
        step = max(1, int(np.ceil(self.x.size / size)))
        pick = slice(None, None, step)
        w = np.ascontiguousarray(self.weight[pick])
        return Summary(
            np.ascontiguousarray(self.x[pick]),
            np.ascontiguousarray(self.t_x[pick]),
            np.ascontiguousarray(self.T[pick]),
            w,
            float(w.sum()),
        )

    @classmethod
    def from_rfm(cls, rfm: RFM, weights: npt.ArrayLike | None = None) -> Summary:
        """Customers of ``rfm``; with ``weights`` each row stands for that many customers
        (aggregated data, e.g. one row per distinct (x, t_x, T) with its count)."""
        if weights is None:
            return cls.from_arrays(rfm.frequency, rfm.recency, rfm.T)
        w = check_weights(weights, len(rfm))
        return cls(rfm.frequency, rfm.recency, rfm.T, w, float(w.sum()))

    @classmethod
    def from_arrays(cls, x: IntArray, t_x: FloatArray, age: FloatArray) -> Summary:
        n = float(x.size)
        if x.size > 1000 and mostly_duplicates(x, t_x, age):
            return _merged(x, t_x, age)
        return cls(x, t_x, age, np.ones(x.size), n)

    @property
    def screen(self) -> Summary | None:
        return self.subsample(SCREEN_SIZE) if self.x.size > 2 * SCREEN_SIZE else None


def check_weights(weights: npt.ArrayLike, n: int) -> FloatArray:
    """Customer weights: one finite number >= 0 per row, not all zero; errors name the row."""
    from journeykit.clv.errors import RFMError

    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise RFMError(f"has shape {w.shape}, expected ({n},): one per customer", column="weights")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise RFMError(f"{w[row]:g} is not a finite number >= 0", column="weights", row=row)
    if not w.sum() > 0:
        raise RFMError("all weights are 0: nothing to fit", column="weights")
    return w


def mostly_duplicates(x: IntArray, t_x: FloatArray, age: FloatArray) -> bool:
    """Guess from the first 20k rows whether merging identical customers pays for its sort."""
    sample = slice(0, 20_000)
    distinct = distinct_customers(x[sample], t_x[sample], age[sample])[3].size
    return distinct < 0.5 * min(x.size, 20_000)


def _merged(x: IntArray, t_x: FloatArray, age: FloatArray) -> Summary:
    xs, ts, ages, counts, _ = distinct_customers(x, t_x, age)
    return Summary(xs, ts, ages, counts.astype(np.float64), float(x.size))


def distinct_customers(
    x: IntArray, t_x: FloatArray, age: FloatArray, *, inverse: bool = False
) -> tuple[IntArray, FloatArray, FloatArray, IntArray, IntArray | None]:
    """The distinct (x, t_x, T) rows, sorted, how often each occurs and (on request) each
    customer's row. numpy only: importing pandas for its hash table cost more than the whole
    fit below 1M customers. Times in whole periods (days, weeks) pack into one int64 key, whose
    sort is a radix sort."""
    bits = [int(x.max()).bit_length() if x.size else 1]
    for t in (t_x, age):
        whole = t.size > 0 and bool(np.all(t == np.floor(t)))
        bits.append(int(t.max()).bit_length() if whole else 64)
    if sum(bits) <= 63:
        key = (x.astype(np.int64) << (bits[1] + bits[2])) | (t_x.astype(np.int64) << bits[2])
        key |= age.astype(np.int64)
        order = np.argsort(key) if inverse else None
        key = key[order] if order is not None else np.sort(key)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        distinct = key[starts]
        xs = distinct >> (bits[1] + bits[2])
        ts = ((distinct >> bits[2]) & ((1 << bits[1]) - 1)).astype(np.float64)
        ages = (distinct & ((1 << bits[2]) - 1)).astype(np.float64)
    else:
        order = np.lexsort((age, t_x, x))
        xs, ts, ages = x[order], t_x[order], age[order]
        new = (xs[1:] != xs[:-1]) | (ts[1:] != ts[:-1]) | (ages[1:] != ages[:-1])
        starts = np.flatnonzero(np.r_[True, new])
        xs, ts, ages = xs[starts], ts[starts], ages[starts]
    counts = np.diff(np.r_[starts, x.size])
    rows = None
    if inverse and order is not None:
        rows = np.empty(x.size, np.int64)
        rows[order] = np.repeat(np.arange(starts.size), counts)
    return xs.astype(np.int64), ts, ages, counts, rows


class Model(Generic[P]):
    """Configure in __init__, learn in fit(); learned state ends in ``_`` (sklearn, lifetimes)."""

    name: ClassVar[str]
    params_type: ClassVar[type[Any]]

    params_: P
    log_likelihood_: float
    standard_errors_: P | None
    covariance_: FloatArray | None  # of the natural parameters; None when not from a fit
    converged_: bool
    diagnosis_: FitDiagnosis | None
    customers_: int
    time_unit_: str | None

    def __init__(self, *, penalizer: float = 0.0) -> None:
        if penalizer < 0:
            raise ValueError("penalizer must be >= 0")
        self.penalizer = penalizer

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}(penalizer={self.penalizer}) [not fitted]"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_._asdict().items())
        return f"{type(self).__name__}({shown})"

    @classmethod
    def from_params(cls, params: P | tuple[float, ...], *, time_unit: str | None = None) -> Self:
        """A model with known parameters (e.g. published ones), ready to predict."""
        model = cls()
        model.params_ = cls.params_type(*(float(v) for v in params))
        model.log_likelihood_, model.standard_errors_ = float("nan"), None
        model.covariance_ = None
        model.converged_, model.diagnosis_, model.customers_ = True, None, 0
        model.time_unit_ = time_unit
        return model

    def _set_fit(self, optimum: Optimum, customers: int, time_unit: str | None) -> None:
        self.params_ = self.params_type(*np.exp(optimum.log_params))
        self.log_likelihood_ = optimum.log_likelihood
        cov = optimum.covariance
        self.covariance_ = cov
        self.standard_errors_ = None if cov is None else self.params_type(*np.sqrt(np.diag(cov)))
        self.diagnosis_ = optimum.diagnosis
        self.converged_ = optimum.diagnosis.converged
        self.customers_ = customers
        self.time_unit_ = time_unit

    def _fitted(self) -> P:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call fit() or from_params()"
            )
        return self.params_

    def check_converged(self) -> Self:
        """Raise ConvergenceError if the fit is not trustworthy (lifetimes' way, on request)."""
        from journeykit.clv.errors import ConvergenceError

        self._fitted()
        d = self.diagnosis_
        if d is not None and not d.converged:
            raise ConvergenceError(
                f"{self.name} did not converge ({d.message}; gradient norm {d.gradient_norm:.2g}, "
                f"Hessian positive definite: {d.hessian_positive_definite}, at bound: "
                f"{', '.join(d.at_bound) or 'none'}); try penalizer=0.001 or more data"
            )
        return self

    def result(self) -> FitResult:
        params = self._fitted()
        se = self.standard_errors_
        return FitResult(
            model=self.name,
            params={k: float(v) for k, v in params._asdict().items()},
            standard_errors=None if se is None else {k: float(v) for k, v in se._asdict().items()},
            log_likelihood=self.log_likelihood_,
            customers=self.customers_,
            penalizer=self.penalizer,
            diagnosis=self.diagnosis_,
            time_unit=self.time_unit_,
        )

    def to_dict(self) -> dict[str, Any]:
        return self.result().to_dict()

    def to_json(self, path: str | Path | None = None) -> str:
        """Parameters and fit statistics as JSON, with the journeykit version (never a pickle)."""
        from journeykit import __version__

        payload = self.to_dict() | {"journeykit_version": __version__}
        text = json.dumps(payload, indent=2, allow_nan=True)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, source: str | Path) -> Self:
        """Read back what to_json wrote (a JSON string or a file path)."""
        text = source if isinstance(source, str) and source.lstrip().startswith("{") else None
        where = "<json>" if text is not None else str(source)
        try:
            payload = json.loads(text if text is not None else Path(source).read_text("utf-8"))
            if payload.get("model") != cls.name:
                found = payload.get("model")
                raise ModelFileError(f"{where}: holds a {found!r} model, not {cls.name!r}")
            names = cls.params_type._fields
            model = cls.from_params(tuple(payload["params"][k] for k in names))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"{where}: not a saved {cls.name} model ({exc})") from exc
        model.penalizer = float(payload.get("penalizer", 0.0))
        model.log_likelihood_ = float(payload.get("log_likelihood", float("nan")))
        model.customers_ = int(payload.get("customers", 0))
        model.time_unit_ = payload.get("time_unit")
        se = payload.get("standard_errors")
        model.standard_errors_ = None if se is None else cls.params_type(*(se[k] for k in names))
        if payload.get("diagnosis"):
            d = payload["diagnosis"]
            model.diagnosis_ = FitDiagnosis(**(d | {"at_bound": tuple(d["at_bound"])}))
            model.converged_ = model.diagnosis_.converged
        return model


def dot(a: FloatArray, b: FloatArray) -> float:
    """Inner product without BLAS: with numpy's and scipy's OpenBLAS both loaded, their thread
    pools fight and a 100k-element ``a @ b`` was measured at 8 ms instead of 0.02 ms."""
    return float(np.einsum("i,i->", a, b))


def chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def chunked(
    fn: Callable[..., FloatArray], *arrays: npt.NDArray[Any], size: int = CHUNK
) -> FloatArray:
    """Apply fn to aligned slices of the arrays so 10M customers never build 10M-row temporaries
    beyond the output itself."""
    n = arrays[0].shape[0]
    out = np.empty(n, dtype=np.float64)
    for part in chunks(n, size):
        out[part] = fn(*(a[part] for a in arrays))
    return out


def broadcast_rfm(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    x, t_x, t = np.broadcast_arrays(
        np.asarray(frequency, float), np.asarray(recency, float), np.asarray(age, float)
    )
    return np.ravel(x), np.ravel(t_x), np.ravel(t)


class CountingModel(Model[P]):
    """A transaction model's predictions for an RFM summary, from its ``*_at`` functions of
    (frequency, recency, age): one place for what BG/NBD, MBG/NBD and Pareto/NBD share."""

    def probability_alive_at(
        self, frequency: npt.ArrayLike, recency: npt.ArrayLike, age: npt.ArrayLike
    ) -> FloatArray:
        raise NotImplementedError

    def expected_purchases_at(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        horizon: float,
    ) -> FloatArray:
        raise NotImplementedError

    def expected_purchases_by_horizon(
        self,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        horizons: Sequence[float],
    ) -> FloatArray:
        """``expected_purchases_at`` for each horizon, one column each (a CLV's months); a model
        overrides it when work can be shared across horizons."""
        x, t_x, a = broadcast_rfm(frequency, recency, age)
        out = np.empty((x.size, len(horizons)))
        for j, h in enumerate(horizons):
            out[:, j] = self.expected_purchases_at(x, t_x, a, horizon=h)
        return out

    def expected_purchases_new(self, t: npt.ArrayLike) -> FloatArray:
        """E[X(t)]: repeat purchases by a new customer in (0, t]."""
        raise NotImplementedError

    def probability_of_purchases_new(self, n: int, t: float) -> float:
        """P(X(t) = n): a new customer makes exactly n repeat purchases in (0, t]."""
        raise NotImplementedError

    def probability_of_purchases_at(
        self,
        n: int,
        frequency: npt.ArrayLike,
        recency: npt.ArrayLike,
        age: npt.ArrayLike,
        *,
        horizon: float,
    ) -> FloatArray:
        """P(exactly n purchases in (T, T + horizon] | x, t_x, T), per customer.

        A customer alive at T is, by memorylessness, a new customer whose parameters are
        updated by the history (the posterior); one who is not alive buys nothing. So this is
        P(alive)·P_new(n | posterior) + (1 − P(alive))·[n = 0].
        """
        if n < 0 or int(n) != n:
            raise ValueError(f"n must be a whole number >= 0, not {n!r}")
        x, t_x, age = broadcast_rfm(frequency, recency, age)
        alive = self.probability_alive_at(x, t_x, age)
        new = chunked(lambda xx, aa: self._posterior_new_pmf(int(n), xx, aa, horizon), x, age)
        return np.asarray(alive * new + (1.0 - alive) * (n == 0))

    def _posterior_new_pmf(self, n: int, x: FloatArray, age: FloatArray, t: float) -> FloatArray:
        raise NotImplementedError

    def probability_alive(self, rfm: RFM) -> FloatArray:
        """P(still alive at T | x, t_x, T) for every customer of ``rfm``."""
        return self.probability_alive_at(rfm.frequency, rfm.recency, rfm.T)

    def expected_purchases(self, rfm: RFM, *, horizon: float) -> FloatArray:
        """E[purchases in (T, T + horizon] | x, t_x, T], in the RFM time unit."""
        return self.expected_purchases_at(rfm.frequency, rfm.recency, rfm.T, horizon=horizon)
