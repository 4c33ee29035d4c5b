"""The early win of each path (docs/metrics.md "Early win"): its first ``celebrate`` milestone
after the entry step and before the core offer, how long customers take to reach it, and how much
more likely those who reach it early are to reach the core offer.

A customer enters a path when they first reach its first step. "Early" is within the win's
designed time from entry (the steps' allowances added up, ``analytics.windows``). The outcome is
reaching the path's first core milestone within the designed time from entry to it, so every
customer compared had the same time to get there: only customers who entered at least that long
before ``now`` are counted (right-censoring). Whether a customer reached the win early is known by
the landmark, well inside that time. It is an association, not proof that the win causes the
purchase: the result says so (``CAVEAT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from journeykit.analytics.intervals import Difference, newcombe, wilson
from journeykit.analytics.milestones import MilestoneFrame
from journeykit.analytics.position import first_reach
from journeykit.analytics.results import NONE, TimeStats
from journeykit.analytics.windows import step_allowances
from journeykit.journey.schema import Journey, JourneyPath
from journeykit.journey.wins import core_step, early_win_milestone

CAVEAT = (
    "An association, not proof: customers who reach the early win may be keener to begin with. "
    "Test it with a play and a holdout before crediting the win."
)


@dataclass(frozen=True)
class Side:
    """One side of the comparison: how many, how many reached the core offer, and the share."""

    customers: int
    reached_core: int

    @property
    def share(self) -> float | None:
        return self.reached_core / self.customers if self.customers else None

    def to_dict(self) -> dict[str, Any]:
        low, high = wilson(self.reached_core, self.customers)
        return {
            "customers": self.customers,
            "reached_core": self.reached_core,
            "share": self.share,
            "ci95": [low, high] if self.customers else None,
        }


@dataclass(frozen=True)
class EarlyWin:
    """The early win of one path; ``milestone`` None when none is designed before the core."""

    path: str
    milestone: str | None
    core: str | None
    entrants: int
    reached: int  # entrants who reached the win at all
    time_to_win: TimeStats | None  # from entry, among those who reached it
    early_within: timedelta | None  # what "early" means: the win's designed time from entry
    horizon: timedelta | None  # the outcome window: the designed time from entry to the core
    early: Side | None
    not_early: Side | None
    difference: Difference | None  # share early - share not early, Newcombe 95%
    ratio: float | None  # share early / share not early
    ratio_low: float | None
    ratio_high: float | None

    def to_dict(self) -> dict[str, Any]:
        d = self.difference
        return {
            "path": self.path,
            "milestone": self.milestone,
            "core": self.core,
            "entrants": self.entrants,
            "reached": self.reached,
            "median_days_to_win": None if self.time_to_win is None
            else self.time_to_win.median / 86400,
            "early_within_days": _days(self.early_within),
            "horizon_days": _days(self.horizon),
            "early": None if self.early is None else self.early.to_dict(),
            "not_early": None if self.not_early is None else self.not_early.to_dict(),
            "difference": None if d is None else {"estimate": d.estimate, "low": d.low,
                                                  "high": d.high, "method": d.method},
            "ratio": self.ratio,
            "ratio_low": self.ratio_low,
            "ratio_high": self.ratio_high,
            "caveat": CAVEAT if self.early is not None else None,
        }  # fmt: skip


def _days(value: timedelta | None) -> float | None:
    return None if value is None else value / timedelta(days=1)


def early_wins(frame: MilestoneFrame, journey: Journey) -> tuple[EarlyWin, ...]:
    """The early win of every path of the journey whose milestones are all measured."""
    first = first_reach(frame, len(frame.journey.milestones))
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    out = []
    for path in journey.paths or (journey.path(None),):
        if any(journey.milestone(s.milestone).when is None for s in path.steps):
            continue
        out.append(_early_win(journey, path, first, index, frame.now))
    return tuple(out)


def _early_win(
    journey: Journey, path: JourneyPath, first: np.ndarray, index: dict[str, int], now: int
) -> EarlyWin:
    win, core = early_win_milestone(journey, path), core_step(journey, path)
    entry = first[:, index[path.steps[0].milestone]]
    entered = entry != NONE
    if win is None:
        return EarlyWin(path.id, None, core, int(entered.sum()), 0, None, None, None,
                        None, None, None, None, None, None)  # fmt: skip
    ids = path.milestone_ids
    allowances = step_allowances(journey, path)
    early_within = sum(allowances[: ids.index(win)], timedelta(0))
    t_win = first[:, index[win]]
    won = entered & (t_win != NONE) & (t_win >= entry)
    took = TimeStats.of((t_win[won] - entry[won]) / 1e6)
    if core is None:
        return EarlyWin(path.id, win, None, int(entered.sum()), int(won.sum()), took,
                        early_within, None, None, None, None, None, None, None)  # fmt: skip
    horizon = sum(allowances[: ids.index(core)], timedelta(0))
    horizon_us = horizon / timedelta(microseconds=1)
    eligible = entered & (entry <= now - horizon_us)
    early = won & (t_win - entry <= early_within / timedelta(microseconds=1))
    t_core = first[:, index[core]]
    reached = (t_core != NONE) & (t_core >= entry) & (t_core - entry <= horizon_us)
    yes = Side(int((eligible & early).sum()), int((eligible & early & reached).sum()))
    no = Side(int((eligible & ~early).sum()), int((eligible & ~early & reached).sum()))
    diff = newcombe(yes.reached_core, yes.customers, no.reached_core, no.customers)
    ratio, low, high = _risk_ratio(yes, no)
    return EarlyWin(
        path.id, win, core, int(entered.sum()), int(won.sum()), took, early_within, horizon,
        yes, no, None if np.isnan(diff.estimate) else diff, ratio, low, high,
    )  # fmt: skip


def _risk_ratio(yes: Side, no: Side) -> tuple[float | None, float | None, float | None]:
    """share early / share not early with its 95% interval (scipy's relative_risk, Katz log)."""
    if not yes.customers or not no.customers or not no.reached_core or not yes.reached_core:
        return None, None, None
    from scipy.stats.contingency import relative_risk

    rr = relative_risk(yes.reached_core, yes.customers, no.reached_core, no.customers)
    ci = rr.confidence_interval(confidence_level=0.95)
    return float(rr.relative_risk), float(ci.low), float(ci.high)
