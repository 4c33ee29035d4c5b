"""The live numbers of each persona's hero's journey (docs/metrics.md "Hero's journey").

For one persona's customers (by their ``segment`` rule), from the milestone log:

- the call: the first step of the first path when it comes before the core offer, and how many
  of the persona reached it (they are the persona's entrants);
- the trials: every breakdown milestone, how many met it and, for those who moved on, how long
  it lasted (from first meeting it to their next milestone of any other kind);
- the reward: the path's core offer and the celebrate milestones after it, each with how many
  reached it and the median days from entry;
- the return: the testimonial and referral milestones, likewise;
- the mentor: how many took part in the community (reached a community milestone).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from journeykit.analytics.milestones import MilestoneFrame
from journeykit.analytics.position import first_reach
from journeykit.analytics.results import NONE
from journeykit.analytics.segments import PersonaIndex, persona_labels
from journeykit.journey.schema import Journey

_DAY_US = 86_400 * 10**6
RETURN_KINDS = ("testimonial", "referral")


@dataclass(frozen=True)
class Reached:
    """How many of the persona's entrants reached a milestone, and the median days from entry."""

    milestone: str
    title: str
    reached: int
    share: float | None
    median_days: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class Trial(Reached):
    """A breakdown milestone: ``moved_on`` of those who met it reached another milestone after,
    a median ``lasted_days`` later."""

    moved_on: int = 0
    lasted_days: float | None = None


@dataclass(frozen=True)
class HeroNumbers:
    persona: str
    entrants: int
    call: Reached | None
    trials: tuple[Trial, ...]
    reward: Reached | None
    celebrations: tuple[Reached, ...]
    returns: tuple[Reached, ...]
    community: Reached | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "persona": self.persona,
            "entrants": self.entrants,
            "call": None if self.call is None else self.call.to_dict(),
            "trials": [t.to_dict() for t in self.trials],
            "reward": None if self.reward is None else self.reward.to_dict(),
            "celebrations": [c.to_dict() for c in self.celebrations],
            "returns": [r.to_dict() for r in self.returns],
            "community": None if self.community is None else self.community.to_dict(),
        }


def hero_numbers(
    frame: MilestoneFrame, journey: Journey, personas: Mapping[str, str] | PersonaIndex
) -> dict[str, HeroNumbers]:
    """Per persona of the journey: the numbers of its hero's journey (``personas``: customer id
    -> persona id, as ``analytics.segments.personas_of`` gives)."""
    first = first_reach(frame, len(frame.journey.milestones))
    index = {m.id: i for i, m in enumerate(journey.milestones)}
    labels = persona_labels(frame.customer_ids, personas)
    path = journey.path(None)
    entry_id = path.steps[0].milestone
    out = {}
    for p in journey.personas:
        rows = np.flatnonzero(labels == p.id)
        entry = first[rows, index[entry_id]]
        entered = entry != NONE
        ctx = _Persona(journey, first[rows][entered], entry[entered], index, frame, rows[entered])
        core = next((s.milestone for s in path.steps
                     if journey.milestone(s.milestone).phase == "core"), None)  # fmt: skip
        after_core = [m for m in journey.milestones if m.phase == "post"]
        com = journey.community
        out[p.id] = HeroNumbers(
            persona=p.id,
            entrants=int(entered.sum()),
            call=ctx.reached(entry_id) if journey.milestone(entry_id).phase == "pre" else None,
            trials=tuple(ctx.trial(m.id) for m in journey.milestones
                         if m.moment == "breakdown" and m.when is not None),
            reward=None if core is None else ctx.reached(core),
            celebrations=tuple(ctx.reached(m.id) for m in after_core
                               if m.moment == "celebrate" and m.when is not None),
            returns=tuple(ctx.reached(m.id) for m in journey.milestones
                          if m.kind in RETURN_KINDS and m.when is not None),
            community=ctx.any_of(com.milestones, "took part in the community") if com else None,
        )  # fmt: skip
    return out


class _Persona:
    """One persona's entrants: first-reach times (rows x milestones) and entry times."""

    def __init__(
        self,
        journey: Journey,
        first: np.ndarray,
        entry: np.ndarray,
        index: dict[str, int],
        frame: MilestoneFrame,
        rows: np.ndarray,
    ) -> None:
        self.journey, self.first, self.entry, self.index = journey, first, entry, index
        self.frame, self.rows = frame, rows

    def _share(self, n: int) -> float | None:
        return n / len(self.entry) if len(self.entry) else None

    def reached(self, milestone: str) -> Reached:
        t = self.first[:, self.index[milestone]]
        hit = t != NONE
        after = hit & (t >= self.entry)
        days = (t[after] - self.entry[after]) / _DAY_US
        n = int(hit.sum())
        return Reached(
            milestone, self.journey.milestone(milestone).title, n, self._share(n),
            float(np.median(days)) if days.size else None,
        )  # fmt: skip

    def any_of(self, milestones: tuple[str, ...], title: str) -> Reached | None:
        cols = [self.index[m] for m in milestones if m in self.index]
        if not cols:
            return None
        n = int((self.first[:, cols] != NONE).any(axis=1).sum())
        return Reached("community", title, n, self._share(n), None)

    def trial(self, milestone: str) -> Trial:
        base = self.reached(milestone)
        k, f = self.index[milestone], self.frame
        met = np.full(f.customers, NONE, dtype=np.int64)
        met[self.rows] = self.first[:, k]
        at = met[f.cust]
        # Rows are sorted by customer then time: a customer's first later row is their next step.
        later = (at != NONE) & (f.ts > at) & (f.milestone != k) & (
            f.milestone < len(self.journey.milestones)
        )  # fmt: skip
        who, first_row = np.unique(f.cust[later], return_index=True)
        lasted = (f.ts[later][first_row] - met[who]) / _DAY_US
        return Trial(
            base.milestone, base.title, base.reached, base.share, base.median_days,
            moved_on=int(who.size), lasted_days=float(np.median(lasted)) if lasted.size else None,
        )  # fmt: skip
