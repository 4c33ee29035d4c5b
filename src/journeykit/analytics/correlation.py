"""Funnel correlation: which events (or event property values) go with converting, which with
dropping (docs/metrics.md "Funnel correlation").

PostHog's funnel correlation, on journeykit's funnel: per event, a 2x2 table of converted and
dropped customers who did or did not do it during their attempt, the odds ratio with one added
to every cell (PostHog's prior), PostHog's minimum-count rule, and a two-sided Fisher exact test,
because an odds ratio of 3 from four customers says little.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import numpy as np
import pyarrow as pa

from journeykit.analytics.compile import compile_rule
from journeykit.analytics.fetch import to_arrow
from journeykit.analytics.milestones import AnalyticsError
from journeykit.analytics.results import FunnelResult, _Tabular
from journeykit.analytics.segments import _as_text
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    import ibis.expr.types as ir

# PostHog's FunnelCorrelation.MIN_PERSON_COUNT and MIN_PERSON_PERCENTAGE: a row with fewer
# customers than min(25, 2% of everyone) is flagged insignificant there.
MIN_CUSTOMERS = 25
MIN_SHARE = 0.02


@dataclass(frozen=True)
class CorrelationRow:
    label: str  # the event name, or "event KEY=value"
    success: int  # converted customers who did it during their attempt
    failure: int  # dropped customers who did
    odds_ratio: float  # (s+1)(F-f+1) / ((S-s+1)(f+1))
    p_value: float  # two-sided Fisher exact test of the 2x2 table
    insignificant: bool  # PostHog's rule: s + f < min(25, 2% of S + F)

    @property
    def kind(self) -> str:
        return "success" if self.odds_ratio > 1 else "failure"

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "correlation": self.kind,
            "success": self.success,
            "failure": self.failure,
            "odds_ratio": self.odds_ratio,
            "p_value": self.p_value,
            "insignificant": self.insignificant,
        }


@dataclass(frozen=True)
class CorrelationResult(_Tabular):
    path: str
    success_total: int  # customers who reached the last step
    failure_total: int  # customers who dropped before it
    in_progress: int  # left out: their attempt may still convert
    by: str | None  # None: event names; else the event property KEY
    correlations: tuple[CorrelationRow, ...]  # strongest first (|log odds ratio|)

    def rows(self) -> list[dict[str, Any]]:
        return [r.to_dict() for r in self.correlations]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "success_total": self.success_total,
            "failure_total": self.failure_total,
            "in_progress": self.in_progress,
            "property": self.by,
            "correlations": self.rows(),
        }


def funnel_correlation(
    result: FunnelResult, events: ir.Table, journey: Journey, *, prop: str | None = None
) -> CorrelationResult:
    """Events (or, with ``prop``, each event's name and ``prop`` value) that go with converting.

    A customer's attempt runs from the chosen attempt's first step to the furthest step it
    reached (PostHog's first to final timestamp); the path's own milestone events are not
    counted. Success: reached the last step; failure: dropped before it; in progress: left out.
    """
    if result.aggregate_by is not None:
        raise AnalyticsError("correlation is of customers; this funnel counts another unit")
    if result.step_times is None:
        raise AnalyticsError(
            "correlation needs the chosen attempts' times: journeykit semantics, ordered or strict"
        )
    k_last = len(result.steps) - 1
    success = result.furthest == k_last
    failure = ~success & ~result.open
    chosen = success | failure
    rows = np.flatnonzero(chosen)
    times = result.step_times
    attempts = ibis.memtable(
        pa.table(
            {
                "_c": pa.array([str(c) for c in result.customer_ids[rows]], pa.string()),
                "_lo": pa.array(times[rows, 0], pa.timestamp("us")),
                "_hi": pa.array(times[rows, result.furthest[rows]], pa.timestamp("us")),
                "_ok": pa.array(success[rows], pa.bool_()),
            }
        )
    )
    path = journey.path(result.path)
    rules = [journey.milestone(m).when for m in path.milestone_ids]
    steps = ibis.or_(*(compile_rule(events, r) for r in rules if r is not None))
    t = events.filter(~steps)
    label = t.event if prop is None else t.event.concat(f" {prop}=", _as_text(t, prop))
    t = t.mutate(_label=label).filter(label.notnull())
    t = t.join(
        attempts,
        [t.customer_id == attempts._c, t.timestamp >= attempts._lo, t.timestamp <= attempts._hi],
    )
    did = t.select("_c", "_label", "_ok").distinct()
    counts = to_arrow(
        did.group_by("_label").agg(s=did._ok.cast("int64").sum(), f=(~did._ok).cast("int64").sum())
    )
    s_total, f_total = int(success.sum()), int(failure.sum())
    out = [
        _row(str(name), int(s), int(f), s_total, f_total)
        for name, s, f in zip(
            counts.column("_label").to_pylist(),
            counts.column("s").to_pylist(),
            counts.column("f").to_pylist(),
            strict=True,
        )
    ]
    out.sort(key=lambda r: (-abs(np.log(r.odds_ratio)), r.label))
    return CorrelationResult(
        result.path,
        s_total,
        f_total,
        int((~success & result.open).sum()),
        prop,
        tuple(out),
    )


def _row(label: str, s: int, f: int, s_total: int, f_total: int) -> CorrelationRow:
    from scipy.stats import fisher_exact

    odds = ((s + 1) * (f_total - f + 1)) / ((s_total - s + 1) * (f + 1))
    _, p = fisher_exact([[s, s_total - s], [f, f_total - f]], alternative="two-sided")
    small = s + f < min(MIN_CUSTOMERS, MIN_SHARE * (s_total + f_total))
    return CorrelationRow(label, s, f, odds, float(p), bool(small))
