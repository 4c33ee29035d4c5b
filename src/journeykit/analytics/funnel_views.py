"""More readings of one funnel result: who converted or dropped at a step, conversion per entry
period (funnel trends), and the time between two chosen steps.

Each works on a ``FunnelResult`` (no second scan of the events), so the numbers are the
funnel's own (docs/metrics.md "Funnel readings").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from journeykit.analytics.errors import FunnelOptionError
from journeykit.analytics.funnel_names import INTERVALS, Interval
from journeykit.analytics.milestones import AnalyticsError
from journeykit.analytics.results import FunnelResult, TimeStats, _Tabular

_EPOCH = datetime(1970, 1, 1)


def _step_index(result: FunnelResult, step: int | str) -> int:
    """A 1-based step number or a milestone id, as a 0-based index."""
    ids = [s.milestone for s in result.steps]
    if isinstance(step, str) and not step.isdigit():
        if step not in ids:
            raise AnalyticsError(f"step {step!r} is not on path {result.path!r}: {', '.join(ids)}")
        return ids.index(step)
    k = int(step)
    if not 1 <= k <= len(ids):
        raise AnalyticsError(f"step {k} is not on path {result.path!r}: expected 1..{len(ids)}")
    return k - 1


def _passed(result: FunnelResult) -> np.ndarray:
    """Customers x steps: who counts at each step (the peer's own rule when it has one)."""
    if result.passed is not None:
        return result.passed
    return result.furthest[:, None] >= np.arange(len(result.steps))[None, :]


@dataclass(frozen=True)
class FunnelPeople(_Tabular):
    """The customers who converted at a step (counted there), or dropped there: counted at the
    required step before it and not at it (an in-progress customer has not dropped)."""

    path: str
    step: str
    dropped: bool
    customer_ids: tuple[str, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [{"customer_id": c} for c in self.customer_ids]

    def to_dict(self) -> dict[str, Any]:
        what = "dropped" if self.dropped else "converted"
        return {"path": self.path, "step": self.step, what: list(self.customer_ids)}


def funnel_people(result: FunnelResult, step: int | str, *, dropped: bool = False) -> FunnelPeople:
    """Who converted at ``step`` (1-based or a milestone id), or with ``dropped`` who dropped
    there: a list to act on, e.g. as a play's audience."""
    k = _step_index(result, step)
    passed = _passed(result)
    if not dropped:
        rows = passed[:, k]
    else:
        if k == 0:
            raise AnalyticsError("nobody drops at the first step: pick a later one")
        before = _previous_required(result, k)
        rows = passed[:, before] & ~passed[:, k] & ~result.open
    ids = tuple(sorted(str(c) for c in result.customer_ids[rows]))
    return FunnelPeople(result.path, result.steps[k].milestone, dropped, ids)


def _previous_required(result: FunnelResult, k: int) -> int:
    """The step before ``k`` (journeykit counts a skipped optional step as passed), or with
    counts by passed steps the nearest one that is not optional (PostHog's drop-off rule)."""
    j = k - 1
    if result.passed is None:
        return j
    while j > 0 and result.optional and result.optional[j]:
        j -= 1
    return j


@dataclass(frozen=True)
class TrendRow:
    period: date
    entered: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.entered if self.entered else 0.0


@dataclass(frozen=True)
class FunnelTrends(_Tabular):
    """Conversion per entry period: customers whose chosen attempt started in the period, and
    how many of them reached ``to_step``."""

    path: str
    interval: str
    to_step: str
    periods: tuple[TrendRow, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "period": r.period.isoformat(),
                "entered": r.entered,
                "converted": r.converted,
                "rate": r.rate,
            }
            for r in self.periods
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "interval": self.interval,
            "to_step": self.to_step,
            "periods": self.rows(),
        }


def period_start(day: date, interval: str) -> date:
    """The first day of the day's period: itself, its ISO week's Monday, its month's first."""
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def funnel_trends(
    result: FunnelResult, interval: Interval = "week", to_step: int | str | None = None
) -> FunnelTrends:
    """Conversion to ``to_step`` (default: the last) per period of entry (UTC days, ISO weeks
    from Monday, calendar months). Periods with no entry are left out."""
    if interval not in INTERVALS:
        raise FunnelOptionError(
            "trends", f"unknown interval {interval!r}; expected one of {INTERVALS}"
        )
    if result.step_times is None:
        kept_by = f"mode {result.mode!r}"
        if result.semantics != "journeykit":
            kept_by = f"{result.semantics} semantics"
        raise FunnelOptionError(
            "trends",
            f"funnel trends need each customer's start, which {kept_by} does not keep; use "
            "journeykit semantics with mode ordered or strict",
        )
    k = len(result.steps) - 1 if to_step is None else _step_index(result, to_step)
    passed = _passed(result)[:, k]
    counts: dict[date, list[int]] = {}
    for start, ok in zip(result.step_times[:, 0].tolist(), passed.tolist(), strict=True):
        day = (_EPOCH + timedelta(microseconds=start)).date()
        row = counts.setdefault(period_start(day, interval), [0, 0])
        row[0] += 1
        row[1] += int(ok)
    periods = tuple(TrendRow(p, n, c) for p, (n, c) in sorted(counts.items()))
    return FunnelTrends(result.path, interval, result.steps[k].milestone, periods)


def conversion_time(
    result: FunnelResult, from_step: int | str = 1, to_step: int | str | None = None, bins: int = 10
) -> TimeStats | None:
    """The time from ``from_step`` to ``to_step`` (default: first to last) for the customers who
    passed ``to_step``, on the chosen attempt's times: mean, median, quantiles and ``bins`` bins."""
    if result.step_times is None:
        raise AnalyticsError("conversion times need step times: use an ordered or strict funnel")
    a = _step_index(result, from_step)
    b = len(result.steps) - 1 if to_step is None else _step_index(result, to_step)
    if b <= a:
        raise AnalyticsError("the to step must come after the from step")
    if bins < 1:
        raise AnalyticsError(f"bins must be at least 1, got {bins}")
    ok = result.furthest >= b
    seconds = (result.step_times[ok, b] - result.step_times[ok, a]) / 1e6
    return TimeStats.of(seconds, bins=bins)
