"""Where to act first, and the stories that prove it: opportunities, the proof library and each
persona's hero's journey, run once on the measured results (``measure`` calls it in full mode).

Every view (``journeykit opportunities``, ``proof``, ``hero``, the report, the web pages and the
API) reads the :class:`Decisions` this returns, so they show the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from journeykit.analytics.hero import hero_numbers
from journeykit.analytics.opportunities import (
    OpportunitiesResult,
    PlayProofLike,
    opportunities,
)
from journeykit.analytics.segments import PersonaIndex, persona_ids
from journeykit.analytics.texts import milestone_texts, story_milestones
from journeykit.discover.hero import HeroJourney, hero_journey
from journeykit.discover.stories import ProofLibrary, proof_library
from journeykit.journey.schema import Journey

if TYPE_CHECKING:
    from journeykit.analytics import FunnelResult, MilestoneFrame, PositionsResult
    from journeykit.analytics.stake import CustomerValues
    from journeykit.discover import Answers, ThemeResult


@dataclass(frozen=True)
class StoryOptions:
    """Where testimonial and review events keep their text and their author's consent."""

    text_property: str = "text"
    consent_property: str = "consent"


@dataclass(frozen=True)
class Decisions:
    opportunities: OpportunitiesResult
    proof: ProofLibrary
    heroes: tuple[HeroJourney, ...]

    def hero(self, persona: str) -> HeroJourney:
        return next(h for h in self.heroes if h.persona == persona)

    def to_dict(self) -> dict[str, Any]:
        return {
            "opportunities": self.opportunities.to_dict(),
            "proof": self.proof.to_dict(),
            "heroes": [h.to_dict() for h in self.heroes],
        }


def decide(
    frame: MilestoneFrame,
    journey: Journey,
    *,
    funnels: Mapping[str, FunnelResult],
    positions: Mapping[str, PositionsResult],
    values: CustomerValues | None,
    themes: ThemeResult | None = None,
    answers: Answers | None = None,
    proofs: Mapping[str, PlayProofLike] | None = None,
    stories: StoryOptions | None = None,
    now: datetime | None = None,
) -> Decisions:
    """Opportunities, stories and heroes from results already measured on ``frame``.

    ``proofs`` (play id -> Prove's verdict and effect) is handed to ``opportunities``: each play
    aimed at a leak shows its proof there, in the opportunity tree and in the report.
    """
    found_ids = persona_ids(frame.events, journey, now=now) if frame.events is not None else {}
    personas = PersonaIndex.of(found_ids)  # hashed once, looked up per path and persona
    found = themes.themes if themes is not None else ()
    opps = opportunities(
        frame, journey, positions_by_path=positions, funnels=funnels, values=values,
        personas=personas, themes=found, proofs=proofs,
    )  # fmt: skip
    opts = stories or StoryOptions()
    texts = None
    if frame.events is not None and story_milestones(journey):
        texts = milestone_texts(
            frame.events, journey, text_key=opts.text_property,
            consent_key=opts.consent_property, now=now,
        )  # fmt: skip
    library = proof_library(journey, answers=answers, texts=texts, opportunities=opps)
    numbers = hero_numbers(frame, journey, personas)
    heroes = tuple(
        hero_journey(journey, p, numbers[p.id], themes=found, library=library)
        for p in journey.personas
    )
    return Decisions(opps, library, heroes)
