"""Touchpoints without a holdout: those who got one vs those who did not, labelled as association.

For a designed touchpoint from milestone A to B with an event rule (``when``), customers are
compared at a landmark: ``landmark`` after first reaching A (default half of B's designed window),
*exposed* means a touchpoint event between reaching A and the landmark, and the outcome is
reaching B after the landmark and by the window's end. Customers who reached B before the
landmark, or whose window has not closed by ``now``, are left out (counted in ``excluded``),
so quick converters do not make the touchpoint look useless, nor slow ones look useful.
The difference is also given within strata of persona and entry month (Mantel-Haenszel),
and everyone compared stood at the same position (A) at the time. It is never called an effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from journeykit.analytics.impact import Comparison, Group, compare
from journeykit.analytics.intervals import Difference
from journeykit.analytics.milestones import MilestoneFrame
from journeykit.journey.plays import step_window
from journeykit.journey.schema import Journey, Milestone, Touchpoint

CAVEAT = (
    "Association, not proof: customers who get a touchpoint may differ from those who do not "
    "in ways the data does not show. To prove it, add a play with a holdout for this step."
)
PREFIX = "touchpoint-"
_NONE = np.iinfo(np.int64).min


def with_touchpoints(journey: Journey) -> Journey:
    """The journey plus one tag per touchpoint with an event rule (appended after everything)."""
    tags = [
        Milestone(id=f"{PREFIX}{i}", title=t.action, phase="pre", when=t.when)
        for i, t in enumerate(journey.touchpoints)
        if t.when is not None
    ]
    if not tags:
        return journey
    return journey.model_copy(update={"milestones": (*journey.milestones, *tags)})


@dataclass(frozen=True)
class Association:
    touchpoint: Touchpoint
    landmark: timedelta
    window: timedelta
    exposed: Group
    not_exposed: Group
    difference: Difference
    adjusted: Difference | None
    excluded: dict[str, int] = field(default_factory=dict)
    caveat: str = CAVEAT

    def to_dict(self) -> dict[str, Any]:
        t = self.touchpoint

        def diff(d: Difference | None) -> dict[str, Any] | None:
            if d is None:
                return None
            return {"estimate": _finite(d.estimate), "ci_low": d.low, "ci_high": d.high}

        return {
            "from": t.from_,
            "to": t.to,
            "channel": t.channel,
            "action": t.action,
            "landmark_days": self.landmark / timedelta(days=1),
            "window_days": self.window / timedelta(days=1),
            "exposed": self.exposed.to_dict(),
            "not_exposed": self.not_exposed.to_dict(),
            "difference": diff(self.difference),
            "adjusted": diff(self.adjusted),
            "excluded": self.excluded,
            "kind": "association",
            "caveat": self.caveat,
        }


def _finite(x: float) -> float | None:
    return None if np.isnan(x) else x


def associations(frame: MilestoneFrame, journey: Journey) -> tuple[Association, ...]:
    """One association per touchpoint with a rule whose tag is in ``frame`` (fetched with
    :func:`with_touchpoints`)."""
    ids = [m.id for m in frame.journey.milestones]
    out = []
    for i, t in enumerate(journey.touchpoints):
        tag = f"{PREFIX}{i}"
        if t.when is None or tag not in ids:
            continue
        out.append(_associate(frame, journey, t, ids.index(tag)))
    return tuple(out)


def _first(frame: MilestoneFrame, code: int) -> np.ndarray:
    rows = np.flatnonzero(frame.milestone == code)
    first = np.full(frame.customers, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, frame.cust[rows], frame.ts[rows])
    return np.where(first == np.iinfo(np.int64).max, _NONE, first)


def _associate(frame: MilestoneFrame, journey: Journey, t: Touchpoint, tag: int) -> Association:
    ids = [m.id for m in frame.journey.milestones]
    window = step_window(journey, t.to)
    landmark = window / 2
    a, b = _first(frame, ids.index(t.from_)), _first(frame, ids.index(t.to))
    lm_us, w_us = landmark // timedelta(microseconds=1), window // timedelta(microseconds=1)
    entered = a != _NONE
    mark, end = a + lm_us, a + w_us
    observed = entered & (end <= frame.now)
    before = observed & (b != _NONE) & (b <= mark)
    keep = observed & ~before
    got = _exposed(frame, tag, a, mark)
    outcome = (b != _NONE) & (b > mark) & (b <= end)
    rows = np.flatnonzero(keep)
    strata = _strata(frame, journey, a, rows)
    g1, g0, raw, adjusted, _ = compare(
        Comparison(got[rows], outcome[rows].astype(np.float64), strata), binary=True
    )
    excluded = {
        "not_at_start": int((~entered).sum()),
        "window_open": int((entered & ~observed).sum()),
        "reached_before_landmark": int(before.sum()),
    }
    return Association(t, landmark, window, g1, g0, raw, adjusted, excluded)


def _exposed(frame: MilestoneFrame, tag: int, start: np.ndarray, mark: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(frame.milestone == tag)
    c, ts = frame.cust[rows], frame.ts[rows]
    hit = (start[c] != _NONE) & (ts >= start[c]) & (ts <= mark[c])
    out = np.zeros(frame.customers, dtype=bool)
    out[c[hit]] = True
    return out


def _strata(frame: MilestoneFrame, journey: Journey, start: np.ndarray, rows: np.ndarray) -> Any:
    """Persona x the month of reaching the start."""
    from journeykit.clv.journey import NO_PERSONA, persona_labels

    months = start[rows].astype("datetime64[us]").astype("datetime64[M]").astype(np.int64)
    if frame.persona is None:
        labels = np.full(rows.size, NO_PERSONA, dtype=object)
    else:
        labels = persona_labels(frame, journey)[rows]
    _, persona = np.unique(labels.astype(str), return_inverse=True)
    return months * 1000 + persona
