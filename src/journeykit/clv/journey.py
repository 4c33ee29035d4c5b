"""CLV through the journey: purchases are its purchase milestones, groups are its personas, path
variants and entry cohorts (docs/metrics.md "CLV").

The raw events are scanned once: the milestone log is built with each persona's ``segment`` rule
added as one more tag, so one fetched log gives every customer's purchases, persona, route to the
first purchase and entry month. Everything after works on that log, on any engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from journeykit.analytics.milestones import (
    AnalyticsError,
    MilestoneFrame,
    arrow_ids,
    as_text,
    fetch_milestones,
)
from journeykit.analytics.paths import _collapsed
from journeykit.analytics.results import _Tabular
from journeykit.clv.errors import RFMError
from journeykit.clv.options import GROUPINGS, UNITS, Unit
from journeykit.clv.rfm import RFM, FloatArray, IntArray
from journeykit.clv.simple import SimpleCLVByGroup, simple_clv_by_group
from journeykit.clv.transactions import (
    CalibrationHoldout,
    calibration_holdout,
    rfm_from_transactions,
)
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from journeykit.analytics.stake import CustomerValues
    from journeykit.clv.diagnostics import Tracking
    from journeykit.clv.models import FitResult
    from journeykit.clv.models._base import CountingModel
    from journeykit.clv.simple import SimpleCLV
    from journeykit.clv.uncertainty import CLVIntervals
    from journeykit.clv.value import CLVResult

NO_PERSONA = "(none)"
OTHER_PATHS = "(other)"
_US_PER_DAY = 86_400 * 10**6


@dataclass(frozen=True, eq=False)
class JourneyCustomers(_Tabular):
    """Every customer with a purchase by the end of calibration: RFM summary, holdout, groups.

    ``purchases`` counts purchase days in calibration (the first included, so frequency + 1);
    ``revenue`` is their total value. ``groups`` maps persona / path / cohort to one label per
    customer, aligned with ``summary``.
    """

    journey: str
    unit: str
    calibration_end: datetime
    observation_end: datetime
    summary: RFM
    holdout: CalibrationHoldout | None
    purchases: IntArray
    revenue: FloatArray | None
    periods_observed: float
    groups: dict[str, npt.NDArray[Any]]
    purchase_milestones: tuple[str, ...]
    # Each row's customer number in the log it was made from, and that log's ``arrow_ids``:
    # ``clv.gap`` reuses the look-up for the same log (hashing again cost 0.3 s at 1M).
    log_rows: npt.NDArray[np.int64] | None = field(default=None, compare=False, repr=False)
    log_ids: Any = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.summary)

    def to_pandas(self) -> pd.DataFrame:
        df = self.summary.to_pandas()
        if self.holdout is not None:
            df["frequency_holdout"] = self.holdout.frequency_holdout
            if self.holdout.monetary_holdout is not None:
                df["monetary_value_holdout"] = self.holdout.monetary_holdout
            df["duration_holdout"] = self.holdout.duration_holdout
        for name, labels in self.groups.items():
            df[name] = labels
        return df

    def rows(self) -> list[dict[str, Any]]:
        return [{str(k): v for k, v in r.items()} for r in self.to_pandas().to_dict("records")]

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "unit": self.unit,
            "calibration_end": self.calibration_end.date().isoformat(),
            "observation_end": self.observation_end.isoformat(),
            "customers": len(self),
            "purchase_milestones": list(self.purchase_milestones),
            "holdout_duration": None if self.holdout is None else self.holdout.duration_holdout,
            "summary": self.rows(),
        }


def journey_customers(
    events: ir.Table | MilestoneFrame,
    journey: Journey,
    *,
    calibration_end: date | datetime | str | None = None,
    now: datetime | None = None,
    unit: Unit = "weeks",
    top_paths: int = 10,
    with_groups: bool = True,
) -> JourneyCustomers:
    """The RFM summary of the journey's purchase milestones, per customer, with their groups.

    Parameters
    ----------
    events
        The canonical events table on any engine, or a milestone log already fetched from it
        (then persona groups are there only if it was fetched with ``personas=True``).
    calibration_end
        Last day of calibration (inclusive). Purchases after it, up to ``now``, are the holdout.
        Default: ``now``, no holdout.
    now
        The observation end (default: the latest event).
    unit
        ``days`` or ``weeks`` for recency and T; purchases on the same day count once.
    top_paths
        Routes to the first purchase kept by name; rarer ones are labelled ``(other)``.
    with_groups
        Label each customer's persona, route and cohort (False when only the summary is needed:
        the routes are most of the cost).
    """
    if unit not in UNITS:
        raise AnalyticsError(f"unit must be 'days' or 'weeks', not {unit!r}")
    buying = tuple(m.id for m in journey.milestones if m.is_purchase and m.when is not None)
    if not buying:
        raise AnalyticsError(
            "the journey has no purchase milestone with a 'when' rule: mark the core offer's "
            "milestone (phase core) or set 'purchase: true' on one"
        )
    if isinstance(events, MilestoneFrame):
        frame = events
    else:
        frame = fetch_milestones(events, journey, now=now, personas=True)
    n_real = len(journey.milestones)
    log = _purchase_log(frame, journey)
    observed = _moment(frame.now)
    cal = observed if calibration_end is None else _day_or_time(calibration_end)
    code = UNITS[unit]
    value_col = None if log["value"].isna().all() else "value"
    _check_values(log, value_col)
    holdout = None
    if cal.normalize() < observed.normalize():
        holdout = calibration_holdout(
            log, monetary_col=value_col, calibration_end=cal, observation_end=observed,
            freq="D", time_unit=code,  # type: ignore[arg-type]
        )  # fmt: skip
        rfm = holdout.calibration
    else:
        rfm = rfm_from_transactions(
            log,
            monetary_col=value_col,
            calibration_end=cal,
            freq="D",
            time_unit=code,  # type: ignore[arg-type]
        )
    ids = _rows_of(frame, rfm.customer_id)
    revenue = None
    if value_col is not None:
        in_cal = log[log["timestamp"].dt.normalize() <= cal.normalize()]
        totals = in_cal.groupby("customer_id", sort=False)["value"].sum()
        revenue = totals.reindex(rfm.customer_id).to_numpy(dtype=np.float64)
    groups: dict[str, npt.NDArray[Any]] = {}
    if with_groups:
        real = _real_rows(frame, journey, n_real)
        groups = {
            "path": _top(_routes(real, journey)[ids], top_paths),
            "cohort": entry_month(real)[ids],
        }
        if frame.persona is not None:
            groups = {"persona": persona_labels(frame, journey)[ids], **groups}
        elif not any(p.segment is not None for p in journey.personas):
            groups = {"persona": np.full(len(ids), NO_PERSONA, dtype=object), **groups}
    return JourneyCustomers(
        journey=journey.id,
        unit=unit,
        calibration_end=cal.to_pydatetime(),
        observation_end=observed.to_pydatetime(),
        summary=rfm,
        holdout=holdout,
        purchases=rfm.frequency + 1,
        revenue=revenue,
        periods_observed=float(rfm.T.max()),
        groups=groups,
        purchase_milestones=buying,
        log_rows=ids,
        log_ids=arrow_ids(frame),
    )


@dataclass(frozen=True, eq=False)
class JourneyTracking:
    """Repeat purchases over time, actual beside the model's expectation (the tracking chart of
    Fader, Hardie & Lee 2005), in the summary's unit from the first purchase day."""

    tracking: Tracking
    origin: datetime  # time 0: the day of the earliest first purchase
    calibration_end: float  # in the unit, from the origin
    unit: str

    def to_dict(self) -> dict[str, Any]:
        return {"origin": self.origin.isoformat(), "calibration_end": self.calibration_end,
                "unit": self.unit, **self.tracking.to_dict()}  # fmt: skip


def journey_tracking(
    events: MilestoneFrame, journey: Journey, model: CountingModel[Any], data: JourneyCustomers
) -> JourneyTracking:
    """The tracking chart's numbers for ``data``'s customers (those who bought by the end of
    calibration), one point per unit to the observation end and one at the calibration end.

    Purchase days as the summary counts them (several on one day are one), so the actual
    cumulative count at the end is the summary's calibration plus holdout frequency.
    """
    from journeykit.clv.diagnostics import expected_cumulative_transactions

    log = _purchase_log(events, journey)
    day = log["timestamp"].dt.normalize()
    end = pd.Timestamp(data.observation_end).normalize()
    ids = data.summary.customer_id
    assert ids is not None  # journey_customers names every customer
    keep = log["customer_id"].isin(ids).to_numpy() & (day <= end).to_numpy()
    days = pd.DataFrame({"c": log["customer_id"][keep], "d": day[keep]}).drop_duplicates()
    first = days.groupby("c", sort=False)["d"].transform("min")
    origin = first.min()
    scale = pd.Timedelta(days=1 if data.unit == "days" else 7)
    births = ((days["d"][days["d"] == first] - origin) / scale).to_numpy(np.float64)
    repeats = ((days["d"][days["d"] > first] - origin) / scale).to_numpy(np.float64)
    cal = float((pd.Timestamp(data.calibration_end).normalize() - origin) / scale)
    last = float((end - origin) / scale)
    times = np.unique(np.r_[np.arange(0.0, np.floor(last) + 1), cal, last])
    tracking = expected_cumulative_transactions(model, births, times, repeat_purchases=repeats)
    return JourneyTracking(tracking, origin.to_pydatetime(), cal, data.unit)


def _moment(us: int) -> pd.Timestamp:
    return pd.Timestamp(np.datetime64(us, "us"))


def _day_or_time(value: date | datetime | str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise AnalyticsError(
            f"calibration end: expected a date such as 2024-03-31, got {value!r}"
        ) from None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def _purchase_log(frame: MilestoneFrame, journey: Journey) -> pd.DataFrame:
    """(customer_id, timestamp, value) of purchase milestone events; an event that reaches two
    purchase milestones counts once."""
    flags = np.array([m.is_purchase for m in journey.milestones], dtype=bool)
    n_real = flags.size
    on = np.zeros(frame.milestone.size, dtype=bool)
    real = frame.milestone < n_real
    on[real] = flags[frame.milestone[real]]
    rows = np.flatnonzero(on)
    if rows.size:
        pairs = np.stack([frame.cust[rows], frame.event_key[rows]], axis=1)
        _, first = np.unique(pairs, axis=0, return_index=True)
        rows = rows[np.sort(first)]
    if rows.size == 0:
        raise AnalyticsError("no customer reached a purchase milestone in these events")
    return pd.DataFrame(
        {
            "customer_id": frame.customer_ids[frame.cust[rows]],
            "timestamp": frame.ts[rows].astype("datetime64[us]"),
            "value": frame.value[rows],
        }
    )


def _check_values(log: pd.DataFrame, value_col: str | None) -> None:
    if value_col is None:
        return
    missing = int(log["value"].isna().sum())
    if missing:
        raise AnalyticsError(
            f"{missing:,} of {len(log):,} purchase events have no value; give every purchase "
            "event a value (or none, for a summary without monetary value)"
        )
    negative = log["value"] < 0
    if negative.any():
        who = log.loc[negative, "customer_id"].iloc[0]
        raise AnalyticsError(
            f"{int(negative.sum()):,} purchase events have a negative value (first: customer "
            f"{who!r}); CLV needs purchase values >= 0 (leave refunds out of purchase milestones)"
        )


def _rows_of(frame: MilestoneFrame, customer_ids: Any) -> npt.NDArray[np.int64]:
    """Each id's customer number in the frame, hashed by Arrow (pandas' ``get_indexer`` on a
    million object strings cost 0.7 s)."""
    import pyarrow.compute as pc

    found = pc.index_in(as_text(np.asarray(customer_ids, dtype=object)), value_set=arrow_ids(frame))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _real_rows(frame: MilestoneFrame, journey: Journey, n_real: int) -> MilestoneFrame:
    keep = frame.milestone < n_real
    cust = frame.cust[keep]
    offsets = np.searchsorted(cust, np.arange(frame.customers + 1)).astype(np.int64)
    return replace(
        frame,
        journey=journey,
        cust=cust,
        milestone=frame.milestone[keep],
        ts=frame.ts[keep],
        value=frame.value[keep],
        event_key=frame.event_key[keep],
        offsets=offsets,
    )


def persona_labels(frame: MilestoneFrame, journey: Journey) -> npt.NDArray[Any]:
    """Per customer: the first persona (file order) whose segment rule one of their events
    matched, or ``(none)`` (docs/metrics.md "Personas", the same rule for every analysis); the
    frame must be fetched with ``personas=True``."""
    labels = np.full(frame.customers, NO_PERSONA, dtype=object)
    if frame.persona is None:
        raise AnalyticsError(
            "cannot label personas: the milestone log was fetched without them "
            "(fetch_milestones(..., personas=True))"
        )
    some = frame.persona >= 0
    ids = np.array([p.id for p in journey.personas], dtype=object)
    labels[some] = ids[frame.persona[some].astype(np.int64)]
    return labels


def _routes(real: MilestoneFrame, journey: Journey) -> npt.NDArray[Any]:
    """Per customer: the milestones reached up to and including the first purchase, in time order
    with consecutive repeats collapsed (the path variant of DESIGN "Paths", cut at the purchase)."""
    ids = [m.id for m in journey.milestones]
    buys = np.array([m.is_purchase for m in journey.milestones], dtype=bool)
    cust, m, _, _ = _collapsed(real)
    labels = np.full(real.customers, "", dtype=object)
    if cust.size == 0:
        return labels
    is_buy = buys[m]
    starts = np.flatnonzero(np.r_[True, cust[1:] != cust[:-1]])
    ends = np.r_[starts[1:], cust.size]
    bought = np.flatnonzero(is_buy)
    # Each customer's first purchase row, found for all at once; only buyers get a label.
    k = np.searchsorted(bought, starts)
    first = bought[np.minimum(k, max(bought.size - 1, 0))] if bought.size else starts
    buyer = (k < bought.size) & (first < ends)
    steps = m.tolist()
    for lo, hi in zip(starts[buyer].tolist(), first[buyer].tolist(), strict=True):
        labels[cust[lo]] = " > ".join(ids[i] for i in steps[lo : hi + 1])
    return labels


def entry_month(real: MilestoneFrame) -> npt.NDArray[Any]:
    """Per customer: the calendar month (UTC) of their first milestone, ``YYYY-MM``."""
    names, codes = entry_months(real)
    return np.append(names, "")[codes]  # -1: no milestone, ""


def entry_months(real: MilestoneFrame) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """:func:`entry_month` as the months present (``YYYY-MM``, in order) and each customer's
    index among them (-1: no milestone): no million label strings."""
    codes = np.full(real.customers, -1, dtype=np.int64)
    has = real.offsets[:-1] < real.offsets[1:]
    month = real.ts[real.offsets[:-1][has]].astype("datetime64[us]").astype("datetime64[M]")
    present, codes[has] = np.unique(month.astype(np.int64), return_inverse=True)
    names = present.astype("datetime64[M]").astype(str).astype(object)
    return names, codes


def _top(labels: npt.NDArray[Any], keep: int) -> npt.NDArray[Any]:
    counts = pd.Series(labels).value_counts()
    ranked = sorted(((str(k), int(n)) for k, n in counts.items()), key=lambda kv: (-kv[1], kv[0]))
    named = [label for label, _ in ranked[:keep]]
    out = labels.copy()
    out[~np.isin(labels, named)] = OTHER_PATHS
    return out


def simple_clv_by(
    data: JourneyCustomers,
    by: str | None = None,
    *,
    horizon_months: float | None = None,
    discount_rate: float = 0.01,
) -> SimpleCLVByGroup:
    """The simple formula overall and per persona, path variant or entry cohort.

    Average purchase value over every purchase in calibration; purchase frequency and churn per
    ``unit`` while a customer, from the constant-rate fit (docs/metrics.md "CLV, simple").
    ``horizon_months`` adds the value over that horizon, discounted, to set beside a model's CLV.
    """
    if data.revenue is None:
        raise RFMError("the simple formula needs purchase values; these purchase events have none")
    labels = np.full(len(data), "all", dtype=object) if by is None else _group_labels(data, by)
    result = simple_clv_by_group(
        data.summary,
        labels,
        revenue=data.revenue,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
        by=by,
    )
    return result if by is not None else SimpleCLVByGroup(result.overall, (), None)


def _group_labels(data: JourneyCustomers, by: str) -> npt.NDArray[Any]:
    if by not in data.groups:
        if by == "persona":
            raise AnalyticsError(
                "cannot group by persona: the milestone log was fetched without the personas' "
                "segment rules (fetch it with fetch_milestones(..., personas=True))"
            )
        raise AnalyticsError(f"cannot group by {by!r}; expected one of {', '.join(GROUPINGS)}")
    return data.groups[by]


@dataclass(frozen=True)
class GroupValue:
    """Expected value of one group's customers over the horizon (means are per customer)."""

    by: str
    group: str
    customers: int
    expected_purchases: float
    probability_alive: float
    expected_spend: float  # Gamma-Gamma expected average purchase value
    clv: float  # mean discounted CLV
    total_clv: float
    # the mean's interval from the parameters' uncertainty (clv_by_journey(intervals=True))
    clv_lower: float | None = None
    clv_upper: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        if self.clv_lower is None:
            del out["clv_lower"], out["clv_upper"]
        return out


@dataclass(frozen=True, eq=False)
class JourneyCLV(_Tabular):
    """Expected discounted value by path variant, persona and entry cohort (highest first)."""

    transaction_model: FitResult
    spend_model: FitResult
    horizon_months: int
    discount_rate: float
    unit: str
    overall: GroupValue
    groups: tuple[GroupValue, ...]
    customers: CLVResult
    probability_alive: FloatArray

    def best(self, by: str) -> GroupValue:
        """The group of this grouping with the highest mean CLV per customer."""
        chosen = [g for g in self.groups if g.by == by]
        if not chosen:
            raise AnalyticsError(f"no groups by {by!r} in this result")
        return chosen[0]

    def rows(self) -> list[dict[str, Any]]:
        return [g.to_dict() for g in (self.overall, *self.groups)]

    def to_dict(self) -> dict[str, Any]:
        bys = list(dict.fromkeys(g.by for g in self.groups))
        return {
            "transaction_model": self.transaction_model.to_dict(),
            "spend_model": self.spend_model.to_dict(),
            "horizon_months": self.horizon_months,
            "discount_rate": self.discount_rate,
            "unit": self.unit,
            "overall": self.overall.to_dict(),
            "groups": {b: [g.to_dict() for g in self.groups if g.by == b] for b in bys},
            "best": {b: self.best(b).group for b in bys},
        }


def clv_by_journey(
    data: JourneyCustomers,
    *,
    model: str = "bgnbd",
    horizon: int = 12,
    discount_rate: float = 0.01,
    penalizer: float = 0.0,
    by: tuple[str, ...] = GROUPINGS,
    intervals: bool = False,
) -> JourneyCLV:
    """Fit a transaction model and Gamma-Gamma on the summary, then mean discounted CLV per group.

    ``horizon`` in months, ``discount_rate`` per month (as ``discounted_clv``). Groups are sorted
    by mean CLV per customer, highest first, within each grouping. ``intervals``: each group's
    mean gets its 95% interval from the parameters' covariance (``clv_intervals``; 2 CLV passes
    per parameter, so about 15 times the cost of the CLV itself).
    """
    from journeykit.clv.models import transaction_model
    from journeykit.clv.value import customer_value

    kind = transaction_model(model)
    rfm = data.summary
    if rfm.monetary_value is None:
        raise RFMError("expected value needs purchase values; these purchase events have none")
    if not (rfm.frequency > 0).any():
        raise RFMError("no customer bought twice in calibration: nothing to learn spend from")
    transactions = kind(penalizer=penalizer).fit(rfm)
    predicted = customer_value(
        transactions, rfm, horizon=horizon, discount_rate=discount_rate, penalizer=penalizer,
        time_unit=UNITS[data.unit],
    )  # fmt: skip
    per, spend, alive = predicted.value, predicted.spend_model, predicted.probability_alive
    assert per is not None and spend is not None  # monetary values and a repeat buyer: checked
    spread = None
    if intervals:
        from journeykit.clv.uncertainty import clv_intervals

        spread = clv_intervals(
            transactions, spend, rfm, horizon=horizon, discount_rate=discount_rate,
            time_unit=UNITS[data.unit],
        )  # fmt: skip
    groups: list[GroupValue] = []
    for name in by:
        labels = _group_labels(data, name)
        part = [_value(name, str(g), per, alive, labels == g, spread) for g in np.unique(labels)]
        groups.extend(sorted(part, key=lambda g: (-g.clv, g.group)))
    return JourneyCLV(
        transaction_model=transactions.result(),
        spend_model=spend.result(),
        horizon_months=horizon,
        discount_rate=discount_rate,
        unit=data.unit,
        overall=_value("all", "all", per, alive, np.ones(len(data), dtype=bool), spread),
        groups=tuple(groups),
        customers=per,
        probability_alive=alive,
    )


def _value(
    by: str,
    group: str,
    per: CLVResult,
    alive: FloatArray,
    rows: npt.NDArray[np.bool_],
    spread: CLVIntervals | None = None,
) -> GroupValue:
    interval = None if spread is None else spread.group(group, rows)
    return GroupValue(
        by=by,
        group=group,
        customers=int(rows.sum()),
        expected_purchases=float(per.expected_purchases[rows].mean()),
        probability_alive=float(alive[rows].mean()),
        expected_spend=float(per.expected_value[rows].mean()),
        clv=float(per.clv[rows].mean()),
        total_clv=float(per.clv[rows].sum()),
        clv_lower=None if interval is None else interval.lower,
        clv_upper=None if interval is None else interval.upper,
    )


def customer_values(
    data: JourneyCustomers, value: JourneyCLV | None, simple: SimpleCLV | None
) -> CustomerValues | None:
    """Expected CLV per customer for value at stake: the model's discounted CLV of each buyer;
    when the model could not be fitted, the simple formula's 12-month value for every buyer
    (``horizon_clv_today``: today's customers, gone ones included). None when neither exists."""
    from journeykit.analytics.stake import CustomerValues

    ids = data.summary.customer_id
    if value is not None and ids is not None:
        source = f"expected CLV, BG/NBD + Gamma-Gamma, {value.horizon_months} months"
        return CustomerValues(np.asarray(ids), np.asarray(value.customers.clv, float), source)
    if simple is not None and simple.horizon_clv_today is not None and ids is not None:
        months = f"{simple.horizon_months:g}"
        source = f"simple CLV over {months} months for every buyer (the model could not be fitted)"
        return CustomerValues(
            np.asarray(ids), np.full(len(ids), simple.horizon_clv_today, float), source
        )
    return None
