"""Entry cohorts: of the customers who entered in a week, how many reached each step in N days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from journeykit.analytics.milestones import Events, milestone_frame, resolve_path
from journeykit.analytics.position import first_reach
from journeykit.analytics.quantiles import distinct
from journeykit.analytics.results import NONE, _Tabular
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    pass

_WEEK_US = 7 * 86400 * 1_000_000
_MONDAY_1970 = 4 * 86400 * 1_000_000  # 1970-01-05 was a Monday


@dataclass(frozen=True)
class Cohort:
    week: date
    customers: int
    reached: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        share = {
            m: (n / self.customers if self.customers else 0.0) for m, n in self.reached.items()
        }
        return {
            "week": self.week.isoformat(),
            "customers": self.customers,
            "reached": self.reached,
            "share": share,
        }


@dataclass(frozen=True)
class CohortsResult(_Tabular):
    """Entry cohorts x the share of each reaching each step within ``days`` (docs/metrics.md)."""

    path: str
    days: int
    steps: tuple[str, ...]
    cohorts: tuple[Cohort, ...]

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "week": c.week.isoformat(),
                "customers": c.customers,
                **{m: round(n / c.customers, 4) for m, n in c.reached.items()},
            }
            for c in self.cohorts
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "days": self.days,
            "steps": list(self.steps),
            "cohorts": [c.to_dict() for c in self.cohorts],
        }


def cohorts(
    events: Events,
    journey: Journey,
    *,
    path: str | None = None,
    days: int = 30,
    now: datetime | None = None,
) -> CohortsResult:
    """Weekly entry cohorts (ISO weeks, UTC) x share reaching each step within ``days``."""
    chosen = resolve_path(journey, path)
    frame = milestone_frame(events, journey, now=now)
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    first = first_reach(frame, len(journey.milestones))
    f = first[:, [index[m] for m in chosen.milestone_ids]]
    entry = f[:, 0]
    entered = entry != NONE
    f, entry = f[entered], entry[entered]
    week = (entry - _MONDAY_1970) // _WEEK_US
    limit = days * 86400 * 1_000_000
    hit = (f != NONE) & (f >= entry[:, None]) & (f - entry[:, None] <= limit)
    out = []
    for w in distinct(week):
        rows = week == w
        start = datetime(1970, 1, 5, tzinfo=UTC) + timedelta(weeks=int(w))
        reached = {m: int(hit[rows, k].sum()) for k, m in enumerate(chosen.milestone_ids)}
        out.append(Cohort(start.date(), int(rows.sum()), reached))
    return CohortsResult(chosen.id, days, chosen.milestone_ids, tuple(out))
