"""The emotion curve from what members say: discovery themes placed on the milestones.

A designed moment is a guess; answers are evidence. Each theme (``discover.find_themes``) has a
moment (celebrate +1, neutral 0, breakdown -1) and the stages or milestones its answers were given
at, with counts. A theme's answers at a milestone id land on that milestone; at a stage, on every
milestone of that stage. A theme with no stage but a median tenure (months) lands on the milestone
of the chosen path whose designed time from the path's start is nearest. A milestone's emotion is
the answer-weighted mean of the moments that landed on it; a milestone no answer reached has none
(the curve skips it, and the map says so).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from journeykit.analytics.windows import step_allowances
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    from journeykit.discover import ThemeResult

MOMENT_SCORE = {"celebrate": 1.0, "neutral": 0.0, "breakdown": -1.0}
_MONTH = timedelta(days=365.2425 / 12)


@dataclass(frozen=True)
class MilestoneEmotion:
    milestone: str
    score: float  # in [-1, 1]: -1 every answer here is a breakdown, +1 every one a celebration
    answers: int  # answers (theme members) that landed here
    themes: tuple[str, ...]  # theme labels, most answers first

    @property
    def moment(self) -> str:
        return "celebrate" if self.score > 0.2 else "breakdown" if self.score < -0.2 else "neutral"


@dataclass(frozen=True)
class ThemeEmotion:
    by_milestone: dict[str, MilestoneEmotion]
    answers: int  # answers placed on some milestone
    unplaced: tuple[str, ...]  # theme labels that reached no milestone (stage unknown to the file)


def designed_months(journey: Journey, path_id: str) -> dict[str, float]:
    """Months from the path's first step to each step by design (``within``/``expected_within``,
    30 days where neither is given)."""
    p = journey.path(path_id)
    out = {p.steps[0].milestone: 0.0}
    total = timedelta(0)
    for step, allowed in zip(p.steps[1:], step_allowances(journey, p), strict=True):
        total += allowed
        out.setdefault(step.milestone, total / _MONTH)
    return out


def theme_emotion(journey: Journey, themes: ThemeResult, path_id: str) -> ThemeEmotion:
    """Per milestone, the answer-weighted mean moment of the themes raised there."""
    by_stage: dict[str, list[str]] = {}
    for m in journey.milestones:
        by_stage.setdefault(m.stage or "", []).append(m.id)
    ids = {m.id for m in journey.milestones}
    months = designed_months(journey, path_id)
    weight: dict[str, float] = {}
    total: dict[str, float] = {}
    labels: dict[str, dict[str, int]] = {}
    placed = 0
    unplaced: list[str] = []
    for t in themes.themes:
        value = MOMENT_SCORE[t.moment]
        landed: list[tuple[str, int]] = []
        for stage, n in t.stages:
            targets = [stage] if stage in ids else by_stage.get(stage, [])
            landed += [(mid, n) for mid in targets]
            placed += n if targets else 0
        if not t.stages and t.position is not None and months:
            nearest = min(months, key=lambda mid: (abs(months[mid] - (t.position or 0.0)), mid))
            landed.append((nearest, t.size))
            placed += t.size
        if not landed:
            unplaced.append(t.label)
        for mid, n in landed:
            weight[mid] = weight.get(mid, 0.0) + n
            total[mid] = total.get(mid, 0.0) + n * value
            labels.setdefault(mid, {})
            labels[mid][t.label] = labels[mid].get(t.label, 0) + n
    out = {
        mid: MilestoneEmotion(
            mid,
            total[mid] / weight[mid],
            int(weight[mid]),
            tuple(sorted(labels[mid], key=lambda label: (-labels[mid][label], label))),
        )
        for mid in weight
    }
    return ThemeEmotion(out, placed, tuple(unplaced))
