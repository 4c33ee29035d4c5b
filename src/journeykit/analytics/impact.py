"""Community impact: members vs non-members on the north-star outcome (DESIGN "Community
impact"; docs/metrics.md, "Community").

Membership is decided at a fixed landmark after entry and the outcome counted only after it, so
no one is a member because they stayed around long enough (no immortal time). It is still an
association, and the result says so (``CAVEAT``).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from journeykit.analytics.community import (
    BINARY,
    CAVEAT,
    DAY_US,
    NONE,
    Adjust,
    Entrants,
    choose_role,
    community_of,
    count_between,
    entry_milestone,
    kth_time,
    prepare,
    us_of,
)
from journeykit.analytics.intervals import Difference, bootstrap, mantel_haenszel, newcombe, wilson
from journeykit.analytics.milestones import AnalyticsError, Events, MilestoneFrame
from journeykit.analytics.results import _Tabular, iso_time
from journeykit.analytics.segments import personas_of
from journeykit.journey.schema import Journey, NorthStar


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
    events: Events,
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
    d = prepare(events, journey, ns, path, now)
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
        entry=entry_milestone(journey, ns, path),
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
    d: Entrants, ns: NorthStar, landmark: timedelta, horizon: timedelta | None
) -> tuple[Comparison, dict[str, int], np.ndarray]:
    n = d.frame.customers
    entered = d.entry != NONE
    mark = np.where(entered, d.entry + us_of(landmark), NONE)
    end = mark + us_of(horizon) if horizon is not None else np.full(n, d.frame.now)
    observed = entered & (end <= d.frame.now) & (mark <= d.frame.now)
    c, t = d.occ
    excluded = {
        "not_entered": int((~entered).sum()),
        "not_observed_long_enough": int((entered & ~observed).sum()),
    }
    keep = observed
    if ns.metric == "per_customer":
        y = count_between(c, t, mark, end, n)
    else:
        at = kth_time(c, t, n, 2 if ns.metric == "repeat_rate" else 1)
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
    d: Entrants, rows: np.ndarray, adjust: Sequence[str], personas: dict[str, int]
) -> np.ndarray:
    key = np.zeros(rows.size, dtype=np.int64)
    if "cohort" in adjust:
        months = d.entry[rows].astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
        key = key * 100_000 + months
    if "persona" in adjust:
        ids = d.frame.customer_ids[rows]
        key = key * 1_000 + np.array([personas.get(str(i), -1) + 1 for i in ids], np.int64)
    return key
