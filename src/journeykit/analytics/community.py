"""What the community does for the business: its north star over time (here) and its measured
impact (``analytics.impact``).

Both start from the milestone log. A customer *enters* at the north star's ``among`` milestone
(default: the first step of the path) and the outcome is counted from entry (docs/metrics.md,
"Community"). Impact compares customers who were members at a fixed *landmark* after entry with
those who were not, counting the outcome only after the landmark: membership is decided before
the outcome can happen, so no one is a member because they stayed around long enough (no
immortal time). It is still an association, and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np

from journeykit.analytics.milestones import (
    AnalyticsError,
    Events,
    MilestoneFrame,
    milestone_frame,
    resolve_path,
)
from journeykit.analytics.results import _Tabular, iso_time
from journeykit.errors import did_you_mean
from journeykit.journey.schema import Community, Journey, NorthStar, Role

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


def us_of(delta: timedelta) -> int:
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


def entry_milestone(journey: Journey, ns: NorthStar, path: str | None) -> str:
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


def kth_time(c: np.ndarray, t: np.ndarray, n: int, k: int) -> np.ndarray:
    out = np.full(n, NONE, dtype=np.int64)
    if c.size == 0:
        return out
    start = np.r_[True, c[1:] != c[:-1]]
    rank = np.arange(c.size) - np.maximum.accumulate(np.where(start, np.arange(c.size), 0))
    chosen = rank == k - 1
    out[c[chosen]] = t[chosen]
    return out


def count_between(
    c: np.ndarray, t: np.ndarray, low: np.ndarray, high: np.ndarray, n: int
) -> np.ndarray:
    """Occurrences in (low, high] per customer."""
    inside = (t > low[c]) & (t <= high[c])
    return np.bincount(c[inside], minlength=n).astype(np.float64)


@dataclass(frozen=True)
class Entrants:
    frame: MilestoneFrame
    entry: np.ndarray  # per customer: entry time, or NONE
    first_member: np.ndarray  # per customer: first community milestone, or NONE
    occ: tuple[np.ndarray, np.ndarray]  # outcome occurrences from entry on


def prepare(
    events: Events,
    journey: Journey,
    ns: NorthStar,
    path: str | None,
    now: datetime | None,
) -> Entrants:
    entry_id = entry_milestone(journey, ns, path)
    ids = _needed(journey, ns, entry_id)
    frame = milestone_frame(events, journey, ids, now=now)
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    entry = _first(frame, index[entry_id])
    member = np.full(frame.customers, NONE, dtype=np.int64)
    for mid in community_of(journey).milestones:
        first = _first(frame, index[mid])
        both = (member != NONE) & (first != NONE)
        member = np.where(both, np.minimum(member, first), np.maximum(member, first))
    occ = _occurrences(frame, index[ns.milestone], entry)
    return Entrants(frame, entry, member, occ)


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


def _outcome_values(d: Entrants, ns: NorthStar, end: np.ndarray) -> np.ndarray:
    """Per customer the north star's own quantity, counted in [entry, end]; NaN: not reached."""
    n = d.frame.customers
    c, t = d.occ
    if ns.metric == "per_customer":
        return count_between(c, t, d.entry - 1, end, n)
    at = kth_time(c, t, n, 2 if ns.metric == "repeat_rate" else 1)
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
    events: Events,
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
    d = prepare(events, journey, ns, path, now)
    entered = d.entry != NONE
    end = np.full(d.frame.customers, d.frame.now, dtype=np.int64)
    if ns.within is not None:
        end = np.where(entered, np.minimum(d.entry + us_of(ns.within), d.frame.now), end)
    values = _outcome_values(d, ns, end)
    starts = period_start(d.entry[entered], period)
    vals = values[entered]
    points = []
    for start in np.unique(starts):
        rows = starts == start
        complete = None
        if ns.within is not None:
            last = int(next_period(np.array([start]), period)[0])
            complete = last + us_of(ns.within) <= d.frame.now
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
        done &= d.entry + us_of(ns.within) <= d.frame.now
    return NorthStarResult(
        title=ns.title or f"{ns.metric} {ns.milestone}",
        objective=chosen.objective,
        metric=ns.metric,
        milestone=ns.milestone,
        among=entry_milestone(journey, ns, path),
        within=ns.within,
        target=ns.target,
        direction=ns.direction,
        period=period,
        now=d.frame.now,
        customers=int(done.sum()),
        value=_summary(values[done], ns.metric),
        points=tuple(points),
    )
