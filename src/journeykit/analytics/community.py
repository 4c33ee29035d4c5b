"""What the community does for the business: its north star over time, and its measured impact.

Both start from the milestone log. A customer *enters* at the north star's ``among`` milestone
(default: the first step of the path) and the outcome is counted from entry (docs/metrics.md,
"Community"). Impact compares customers who were members at a fixed *landmark* after entry with
those who were not, counting the outcome only after the landmark: membership is decided before
the outcome can happen, so no one is a member because they stayed around long enough (no
immortal time). It is still an association, and the result says so.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from journeykit.analytics.intervals import (
    Difference,
    bootstrap,
    mantel_haenszel,
    newcombe,
    wilson,
)
from journeykit.analytics.milestones import (
    AnalyticsError,
    MilestoneFrame,
    fetch_milestones,
    resolve_path,
)
from journeykit.analytics.results import _Tabular, iso_time
from journeykit.analytics.segments import personas_of
from journeykit.errors import did_you_mean
from journeykit.journey.schema import Community, Journey, NorthStar, Role

if TYPE_CHECKING:
    import ibis.expr.types as ir

NONE = np.iinfo(np.int64).min
DAY_US = 86_400 * 1_000_000
_WEEK_US = 7 * DAY_US
_MONDAY_1970 = 4 * DAY_US  # 1970-01-05 was a Monday
BINARY = ("share_reaching", "repeat_rate")
Period = Literal["week", "month"]
Adjust = Literal["cohort", "persona"]

CAVEAT = (
    "This is an association, not proof of cause: customers who join the community may differ "
    "from those who do not in ways the data does not show (motivation, budget, fit). "
    "Compare like with like (the adjusted estimate), and test it with an experiment before "
    "crediting the community."
)


def _us(delta: timedelta) -> int:
    return int(delta / timedelta(microseconds=1))


# --- the customers, their entry and their outcome -------------------------------------------


def community_of(journey: Journey) -> Community:
    if journey.community is None:
        raise AnalyticsError("the journey has no 'community' section to measure")
    return journey.community


def choose_role(journey: Journey, role: int | str | None = None) -> tuple[Role, NorthStar]:
    """A role with a north star: by position (0-based), by objective, or the first one."""
    roles = community_of(journey).all_roles
    measured = [(r, r.north_star) for r in roles if r.north_star is not None]
    by_position = [(r, r.north_star) for r in roles]
    if not measured or measured[0][1] is None:
        raise AnalyticsError("the community has no north star to measure: add one to a role")
    if role is None:
        return measured[0][0], measured[0][1]
    if isinstance(role, int):
        star = by_position[role][1] if 0 <= role < len(roles) else None
        if star is None:
            raise AnalyticsError(f"role {role + 1} does not exist or has no north star")
        return roles[role], star
    for r, ns in measured:
        if r.objective == role and ns is not None:
            return r, ns
    known = [str(r.objective) for r, _ in measured]
    hint = did_you_mean(role, known)
    raise AnalyticsError(
        f"no role with objective {role!r} and a north star{hint} (known: {', '.join(known)})"
    )


def _entry_milestone(journey: Journey, ns: NorthStar, path: str | None) -> str:
    return ns.among or resolve_path(journey, path).milestone_ids[0]


def _needed(journey: Journey, ns: NorthStar, entry: str) -> list[str]:
    c = community_of(journey)
    ids = {entry, ns.milestone, *c.milestones}
    for mid in ids:
        if journey.milestone(mid).when is None:
            raise AnalyticsError(f"milestone {mid!r} has no 'when' rule, so it cannot be measured")
    return sorted(ids)


def _first(frame: MilestoneFrame, mi: int) -> np.ndarray:
    out = np.full(frame.customers, NONE, dtype=np.int64)
    rows = np.flatnonzero(frame.milestone == mi)
    cust = frame.cust[rows]
    keep = np.r_[True, cust[1:] != cust[:-1]] if rows.size else np.zeros(0, bool)
    out[cust[keep]] = frame.ts[rows[keep]]
    return out


def _occurrences(
    frame: MilestoneFrame, mi: int, entry: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of milestone ``mi`` at or after each customer's entry (customer-then-time order)."""
    rows = frame.milestone == mi
    c, t = frame.cust[rows], frame.ts[rows]
    keep = (entry[c] != NONE) & (t >= entry[c])
    return c[keep], t[keep]


def _kth(c: np.ndarray, t: np.ndarray, n: int, k: int) -> np.ndarray:
    out = np.full(n, NONE, dtype=np.int64)
    if c.size == 0:
        return out
    start = np.r_[True, c[1:] != c[:-1]]
    rank = np.arange(c.size) - np.maximum.accumulate(np.where(start, np.arange(c.size), 0))
    chosen = rank == k - 1
    out[c[chosen]] = t[chosen]
    return out


def _count_between(
    c: np.ndarray, t: np.ndarray, low: np.ndarray, high: np.ndarray, n: int
) -> np.ndarray:
    """Occurrences in (low, high] per customer."""
    inside = (t > low[c]) & (t <= high[c])
    return np.bincount(c[inside], minlength=n).astype(np.float64)


@dataclass(frozen=True)
class _Data:
    frame: MilestoneFrame
    entry: np.ndarray  # per customer: entry time, or NONE
    first_member: np.ndarray  # per customer: first community milestone, or NONE
    occ: tuple[np.ndarray, np.ndarray]  # outcome occurrences from entry on


def _prepare(
    events: ir.Table | MilestoneFrame,
    journey: Journey,
    ns: NorthStar,
    path: str | None,
    now: datetime | None,
) -> _Data:
    entry_id = _entry_milestone(journey, ns, path)
    ids = _needed(journey, ns, entry_id)
    if isinstance(events, MilestoneFrame):
        frame = events
    else:
        frame = fetch_milestones(events, journey, ids, now=now)
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    entry = _first(frame, index[entry_id])
    member = np.full(frame.customers, NONE, dtype=np.int64)
    for mid in community_of(journey).milestones:
        first = _first(frame, index[mid])
        both = (member != NONE) & (first != NONE)
        member = np.where(both, np.minimum(member, first), np.maximum(member, first))
    occ = _occurrences(frame, index[ns.milestone], entry)
    return _Data(frame, entry, member, occ)


# --- north star over time ---------------------------------------------------------------------


def period_start(ts: np.ndarray, period: Period) -> np.ndarray:
    """The start (microseconds) of each time's ISO week (Monday, UTC) or calendar month."""
    if period == "week":
        return (ts - _MONDAY_1970) // _WEEK_US * _WEEK_US + _MONDAY_1970
    months = ts.astype("datetime64[us]").astype("datetime64[M]")
    return months.astype("datetime64[us]").astype(np.int64)


def next_period(start: np.ndarray, period: Period) -> np.ndarray:
    if period == "week":
        return start + _WEEK_US
    months = start.astype("datetime64[us]").astype("datetime64[M]") + 1
    return months.astype("datetime64[us]").astype(np.int64)


def _day(us: int) -> date:
    return (datetime(1970, 1, 1) + timedelta(microseconds=int(us))).date()  # exact at 9999


@dataclass(frozen=True)
class NorthStarPoint:
    period: date
    customers: int  # entered in this period
    value: float | None
    complete: bool | None  # every customer's `within` window has ended by `now` (None: no window)
    on_target: bool | None


@dataclass(frozen=True)
class NorthStarResult(_Tabular):
    """The north star per entry period, against its target (docs/metrics.md, "North star")."""

    title: str
    objective: str | None
    metric: str
    milestone: str
    among: str
    within: timedelta | None
    target: float
    direction: str
    period: str
    now: int
    customers: int
    value: float | None  # over every customer whose window is complete
    points: tuple[NorthStarPoint, ...]

    @property
    def on_target(self) -> bool | None:
        return _on_target(self.value, self.target, self.direction)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "period": p.period.isoformat(),
                "customers": p.customers,
                "value": p.value,
                "target": self.target,
                "complete": p.complete,
                "on_target": p.on_target,
            }
            for p in self.points
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "objective": self.objective,
            "metric": self.metric,
            "milestone": self.milestone,
            "among": self.among,
            "within_days": self.within / timedelta(days=1) if self.within else None,
            "target": self.target,
            "direction": self.direction,
            "period": self.period,
            "now": iso_time(self.now),
            "customers": self.customers,
            "value": self.value,
            "on_target": self.on_target,
            "series": self.rows(),
        }


def _on_target(value: float | None, target: float, direction: str) -> bool | None:
    if value is None:
        return None
    return value >= target if direction == "up" else value <= target


def _outcome_values(d: _Data, ns: NorthStar, end: np.ndarray) -> np.ndarray:
    """Per customer the north star's own quantity, counted in [entry, end]; NaN: not reached."""
    n = d.frame.customers
    c, t = d.occ
    if ns.metric == "per_customer":
        return _count_between(c, t, d.entry - 1, end, n)
    at = _kth(c, t, n, 2 if ns.metric == "repeat_rate" else 1)
    reached = (at != NONE) & (at <= end)
    if ns.metric == "median_days_to":
        days: np.ndarray = np.where(reached, (at - d.entry) / DAY_US, np.nan)
        return days
    flags: np.ndarray = reached.astype(np.float64)
    return flags


def _summary(values: np.ndarray, metric: str) -> float | None:
    if metric == "median_days_to":
        values = values[~np.isnan(values)]
        return float(np.median(values)) if values.size else None
    return float(values.mean()) if values.size else None


def north_star(
    events: ir.Table | MilestoneFrame,
    journey: Journey,
    *,
    role: int | str | None = None,
    period: Period = "month",
    path: str | None = None,
    now: datetime | None = None,
) -> NorthStarResult:
    """The role's north star for each entry period (week or month), with the target line.

    A point is the metric over the customers who entered in that period, counted up to ``within``
    after entry (or up to ``now``); ``complete`` says whether every window has ended.
    """
    chosen, ns = choose_role(journey, role)
    d = _prepare(events, journey, ns, path, now)
    entered = d.entry != NONE
    end = np.full(d.frame.customers, d.frame.now, dtype=np.int64)
    if ns.within is not None:
        end = np.where(entered, np.minimum(d.entry + _us(ns.within), d.frame.now), end)
    values = _outcome_values(d, ns, end)
    starts = period_start(d.entry[entered], period)
    vals = values[entered]
    points = []
    for start in np.unique(starts):
        rows = starts == start
        complete = None
        if ns.within is not None:
            last = int(next_period(np.array([start]), period)[0])
            complete = last + _us(ns.within) <= d.frame.now
        value = _summary(vals[rows], ns.metric)
        points.append(
            NorthStarPoint(
                _day(int(start)),
                int(rows.sum()),
                value,
                complete,
                _on_target(value, ns.target, ns.direction),
            )
        )
    done = entered.copy()
    if ns.within is not None:
        done &= d.entry + _us(ns.within) <= d.frame.now
    return NorthStarResult(
        title=ns.title or f"{ns.metric} {ns.milestone}",
        objective=chosen.objective,
        metric=ns.metric,
        milestone=ns.milestone,
        among=_entry_milestone(journey, ns, path),
        within=ns.within,
        target=ns.target,
        direction=ns.direction,
        period=period,
        now=d.frame.now,
        customers=int(done.sum()),
        value=_summary(values[done], ns.metric),
        points=tuple(points),
    )


# --- impact -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One side of the comparison: how many customers, and the outcome among them."""

    customers: int
    rate: float | None  # share reaching, mean count, or median days (by the metric)
    reached: int | None = None  # binary outcomes: how many reached it
    ci95: tuple[float, float] | None = None  # binary outcomes: Wilson interval of the share

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"customers": self.customers, "rate": self.rate}
        if self.reached is not None:
            out["reached"] = self.reached
        if self.ci95 is not None:
            out["ci95"] = list(self.ci95)
        return out


@dataclass(frozen=True)
class ImpactResult(_Tabular):
    """Members vs non-members on the north-star outcome (docs/metrics.md, "Community impact")."""

    outcome: str
    title: str
    metric: str
    direction: str
    objective: str | None
    community_milestones: tuple[str, ...]
    entry: str
    landmark: timedelta
    horizon: timedelta | None
    now: int
    members: Group
    non_members: Group
    difference: Difference
    adjusted: Difference | None
    adjusted_by: tuple[str, ...]
    strata: int
    excluded: dict[str, int] = field(default_factory=dict)
    caveat: str = CAVEAT

    @property
    def ci95(self) -> tuple[float, float]:
        return self.difference.low, self.difference.high

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for name, g in (("members", self.members), ("non_members", self.non_members)):
            low, high = g.ci95 or (None, None)
            out.append(
                {
                    "group": name,
                    "customers": g.customers,
                    "rate": g.rate,
                    "ci95_low": low,
                    "ci95_high": high,
                }
            )
        diffs = [("difference", self.difference)]
        if self.adjusted is not None:
            diffs.append((f"adjusted ({', '.join(self.adjusted_by)})", self.adjusted))
        for name, diff in diffs:
            out.append(
                {
                    "group": name,
                    "customers": None,
                    "rate": _finite(diff.estimate),
                    "ci95_low": _finite(diff.low),
                    "ci95_high": _finite(diff.high),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        adjusted = None
        if self.adjusted is not None:
            adjusted = {
                "by": list(self.adjusted_by),
                "strata": self.strata,
                "difference": _finite(self.adjusted.estimate),
                "ci95": [_finite(self.adjusted.low), _finite(self.adjusted.high)],
                "method": self.adjusted.method,
            }
        return {
            "outcome": self.outcome,
            "title": self.title,
            "metric": self.metric,
            "direction": self.direction,
            "objective": self.objective,
            "community_milestones": list(self.community_milestones),
            "entry": self.entry,
            "landmark_days": self.landmark / timedelta(days=1),
            "horizon_days": self.horizon / timedelta(days=1) if self.horizon else None,
            "now": iso_time(self.now),
            "members": self.members.to_dict(),
            "non_members": self.non_members.to_dict(),
            "difference": _finite(self.difference.estimate),
            "ci95": [_finite(self.difference.low), _finite(self.difference.high)],
            "method": self.difference.method,
            "adjusted": adjusted,
            "excluded": self.excluded,
            "caveat": self.caveat,
        }

    def _repr_html_(self) -> str:
        return super()._repr_html_() + f"<p><em>{html.escape(self.caveat)}</em></p>"


def _finite(x: float) -> float | None:
    return None if math.isnan(x) else x


@dataclass(frozen=True)
class Comparison:
    """Customer-level inputs to the comparison: who is a member, their outcome, their stratum."""

    member: np.ndarray  # bool
    outcome: np.ndarray  # 0/1 for binary metrics, else the quantity
    strata: np.ndarray | None = None  # int stratum per customer


def compare(
    c: Comparison, *, binary: bool, statistic: str = "mean", seed: int = 0, reps: int = 2000
) -> tuple[Group, Group, Difference, Difference | None, int]:
    """Members minus non-members: raw, and stratified when strata are given.

    Binary outcomes: Newcombe's interval, Mantel-Haenszel with Sato's variance for the adjusted
    estimate. Others: the difference in means (or medians), seeded percentile bootstrap.
    """
    m, y = c.member.astype(bool), np.asarray(c.outcome, dtype=np.float64)
    y1, y0 = y[m], y[~m]
    if binary:
        x1, x0 = int(y1.sum()), int(y0.sum())
        g1 = Group(y1.size, x1 / y1.size if y1.size else None, x1, wilson(x1, y1.size))
        g0 = Group(y0.size, x0 / y0.size if y0.size else None, x0, wilson(x0, y0.size))
        raw = newcombe(x1, y1.size, x0, y0.size)
    else:
        stat = np.median if statistic == "median" else np.mean
        g1 = Group(y1.size, float(stat(y1)) if y1.size else None)
        g0 = Group(y0.size, float(stat(y0)) if y0.size else None)
        raw = bootstrap(y1, y0, lambda v: float(stat(v)), reps=reps, seed=seed)
    if c.strata is None:
        return g1, g0, raw, None, 0
    s = np.asarray(c.strata)
    keys, inverse = np.unique(s, return_inverse=True)
    if binary:
        k = keys.size
        n1 = np.bincount(inverse[m], minlength=k)
        n0 = np.bincount(inverse[~m], minlength=k)
        a1 = np.bincount(inverse[m], weights=y[m], minlength=k)
        a0 = np.bincount(inverse[~m], weights=y[~m], minlength=k)
        adjusted = mantel_haenszel(a1, n1, a0, n0)
    else:
        stat = np.median if statistic == "median" else np.mean
        adjusted = bootstrap(
            y1,
            y0,
            lambda v: float(stat(v)),
            strata=(inverse[m], inverse[~m]),
            reps=reps,
            seed=seed,
        )
    return g1, g0, raw, adjusted, int(keys.size)


def impact(
    events: ir.Table | MilestoneFrame,
    journey: Journey,
    *,
    role: int | str | None = None,
    landmark: timedelta = timedelta(days=14),
    horizon: timedelta | None = None,
    adjust: Sequence[Adjust] = ("cohort", "persona"),
    personas: dict[str, int] | None = None,
    path: str | None = None,
    now: datetime | None = None,
    seed: int = 0,
) -> ImpactResult:
    """The north-star outcome for community members vs the rest, with a 95% interval.

    Customers are compared at ``landmark`` after entry: members reached a community milestone by
    then; the outcome counts from the landmark to ``horizon`` after it (default: the north star's
    ``within``, else up to ``now``). Customers whose landmark (plus horizon) is after ``now``, or
    who reached the outcome before the landmark, are left out and counted in ``excluded``.
    ``adjust`` stratifies by entry month (``cohort``) and ``persona``; persona needs the events
    table (or ``personas``, customer id -> persona index).
    """
    chosen, ns = choose_role(journey, role)
    horizon = horizon if horizon is not None else ns.within
    d = _prepare(events, journey, ns, path, now)
    cmp, excluded, ids = _comparison(d, ns, landmark, horizon)
    if "persona" in adjust and personas is None:
        if isinstance(events, MilestoneFrame):
            raise AnalyticsError("adjusting by persona needs the events table, not a frame")
        personas = personas_of(events, journey)
    strata = _strata(d, ids, adjust, personas or {}) if adjust else None
    cmp = Comparison(cmp.member, cmp.outcome, strata)
    statistic = "median" if ns.metric == "median_days_to" else "mean"
    g1, g0, raw, adjusted, k = compare(
        cmp, binary=ns.metric in BINARY, statistic=statistic, seed=seed
    )
    return ImpactResult(
        outcome=ns.milestone,
        title=ns.title or f"{ns.metric} {ns.milestone}",
        metric=ns.metric,
        direction=ns.direction,
        objective=chosen.objective,
        community_milestones=community_of(journey).milestones,
        entry=_entry_milestone(journey, ns, path),
        landmark=landmark,
        horizon=horizon,
        now=d.frame.now,
        members=g1,
        non_members=g0,
        difference=raw,
        adjusted=adjusted,
        adjusted_by=tuple(adjust),
        strata=k,
        excluded=excluded,
    )


def _comparison(
    d: _Data, ns: NorthStar, landmark: timedelta, horizon: timedelta | None
) -> tuple[Comparison, dict[str, int], np.ndarray]:
    n = d.frame.customers
    entered = d.entry != NONE
    mark = np.where(entered, d.entry + _us(landmark), NONE)
    end = mark + _us(horizon) if horizon is not None else np.full(n, d.frame.now)
    observed = entered & (end <= d.frame.now) & (mark <= d.frame.now)
    c, t = d.occ
    excluded = {
        "not_entered": int((~entered).sum()),
        "not_observed_long_enough": int((entered & ~observed).sum()),
    }
    keep = observed
    if ns.metric == "per_customer":
        y = _count_between(c, t, mark, end, n)
    else:
        at = _kth(c, t, n, 2 if ns.metric == "repeat_rate" else 1)
        before = (at != NONE) & (at <= mark)
        excluded["outcome_before_landmark"] = int((observed & before).sum())
        keep = keep & ~before
        reached = (at != NONE) & (at > mark) & (at <= end)
        if ns.metric == "median_days_to":
            excluded["outcome_not_reached"] = int((keep & ~reached).sum())
            keep = keep & reached
            y = np.where(reached, (at - d.entry) / DAY_US, np.nan)
        else:
            y = reached.astype(np.float64)
    member = (d.first_member != NONE) & (d.first_member <= mark)
    rows = np.flatnonzero(keep)
    return Comparison(member[rows], y[rows]), excluded, rows


def _strata(
    d: _Data, rows: np.ndarray, adjust: Sequence[str], personas: dict[str, int]
) -> np.ndarray:
    key = np.zeros(rows.size, dtype=np.int64)
    if "cohort" in adjust:
        months = d.entry[rows].astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        key = key * 100_000 + months
    if "persona" in adjust:
        ids = d.frame.customer_ids[rows]
        key = key * 1_000 + np.array([personas.get(str(i), -1) + 1 for i in ids], np.int64)
    return key
