"""The hero's journey of each persona: the customer as the hero, told with live numbers and the
members' own words, and a plain story a marketer can reuse.

The parts (Campbell's monomyth, as marketers use it): the ordinary world (the transformation's
FROM), the call (the first milestone and what brings people there), the fears, the mentor and the
path shown (touchpoints, the community), the trials (breakdown milestones), the reward (the core
offer and the celebrations after it), the return (testimonials, referrals) and the new world
(TO). Numbers come from ``analytics.hero``; quotes from the themes raised at each part's
milestones or stages, and from the persona's consented stories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from journeykit.journey.schema import Journey, Persona

if TYPE_CHECKING:
    from journeykit.analytics.hero import HeroNumbers, Reached
    from journeykit.discover.stories import ProofLibrary
    from journeykit.discover.themes import Theme


@dataclass(frozen=True)
class Chapter:
    """One part of the journey: what happens, its numbers in words, and members' quotes."""

    key: str
    title: str
    text: str
    numbers: tuple[str, ...] = ()
    quotes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**vars(self), "numbers": list(self.numbers), "quotes": list(self.quotes)}


@dataclass(frozen=True)
class HeroJourney:
    persona: str
    name: str
    chapters: tuple[Chapter, ...]
    story: str  # the plain story
    numbers: HeroNumbers

    def chapter(self, key: str) -> Chapter:
        return next(c for c in self.chapters if c.key == key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "persona": self.persona,
            "name": self.name,
            "chapters": [c.to_dict() for c in self.chapters],
            "story": self.story,
            "numbers": self.numbers.to_dict(),
        }


def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"


def _reached(r: Reached | None, entrants: int) -> str:
    if r is None:
        return ""
    days = "" if r.median_days is None else f", a median {r.median_days:.0f} days after entry"
    return f"{r.title}: {r.reached:,} of {entrants:,} ({_pct(r.share)}){days}"


class _Quotes:
    def __init__(self, journey: Journey, themes: Sequence[Theme]) -> None:
        self.journey, self.themes = journey, themes

    def at(
        self, milestones: Sequence[str], moment: str | None = None, n: int = 2
    ) -> tuple[str, ...]:
        places = set(milestones) | {
            s for m in milestones if (s := self.journey.milestone(m).stage) is not None
        }
        out: list[str] = []
        for t in self.themes:
            if moment is not None and t.moment != moment:
                continue
            if any(where in places for where, _ in t.stages):
                out += [q.text for q in t.quotes if q.stage in places] or [q.text for q in t.quotes]
        return tuple(dict.fromkeys(out))[:n]


def hero_journey(
    journey: Journey,
    persona: Persona,
    numbers: HeroNumbers,
    *,
    themes: Sequence[Theme] = (),
    library: ProofLibrary | None = None,
) -> HeroJourney:
    """One persona's hero's journey, each chapter with its numbers and quotes."""
    j, n = journey, numbers
    quotes = _Quotes(j, themes)
    path = j.path(None)
    entry = path.steps[0].milestone
    shown = [t for t in j.touchpoints if t.from_ in path.milestone_ids]
    stories = library.for_persona(persona.id) if library is not None else ()
    com = j.community
    chapters = [
        Chapter("ordinary", "The ordinary world", j.transformation.from_,
                tuple(persona.frustrations)),
        Chapter("call", "The call", f"It starts at “{j.milestone(entry).title}”.",
                (_reached(n.call, n.entrants),) if n.call else (), quotes.at([entry])),
        Chapter("fears", "The fears", "; ".join(persona.fears) or "none written down",
                quotes=quotes.at(path.milestone_ids[:2], "breakdown")),
        Chapter("mentor", "The mentor and the path shown",
                "; ".join(f"{t.channel}: {t.action}" for t in shown) or "no touchpoint designed",
                tuple(x for x in (_reached(n.community, n.entrants),
                                  f"community: {com.purpose}" if com else "") if x)),
        Chapter("trials", "The trials",
                "; ".join(t.title for t in n.trials) or "no breakdown milestone designed",
                tuple(_trial(t, n.entrants) for t in n.trials),
                quotes.at([t.milestone for t in n.trials], "breakdown")),
        Chapter("reward", "The reward", n.reward.title if n.reward else "no core offer on the path",
                tuple(_reached(r, n.entrants) for r in (n.reward, *n.celebrations) if r),
                quotes.at([r.milestone for r in n.celebrations], "celebrate")),
        Chapter("return", "The return",
                "; ".join(r.title for r in n.returns) or "no testimonial or referral designed",
                tuple(_reached(r, n.entrants) for r in n.returns),
                tuple(s.after.text for s in stories[:2])),
        Chapter("new_world", "The new world", j.transformation.to),
    ]  # fmt: skip
    story = plain_story(j, persona, n, stories[0].after.text if stories else None)
    return HeroJourney(persona.id, persona.name, tuple(chapters), story, n)


def _trial(t: Any, entrants: int) -> str:
    lasted = "" if t.lasted_days is None else (
        f"; {t.moved_on:,} moved on, a median {t.lasted_days:.0f} days later"
    )  # fmt: skip
    return f"{t.title}: {t.reached:,} of {entrants:,} met it ({_pct(t.share)}){lasted}"


def plain_story(journey: Journey, persona: Persona, n: HeroNumbers, quote: str | None) -> str:
    """The journey in a paragraph, for a landing page or an email."""
    j = journey
    parts = [f"{persona.name} starts where many do: “{j.transformation.from_}”."]
    if persona.frustrations:
        parts.append(f"What wears them down: {persona.frustrations[0].rstrip('.').lower()}.")
    if n.call is not None:
        parts.append(
            f"The first step is “{n.call.title}”; {n.entrants:,} people like them took it."
        )
    if persona.fears:
        parts.append(f"What holds them back: {persona.fears[0].rstrip('.').lower()}.")
    if n.trials:
        worst = max(n.trials, key=lambda t: t.reached)
        parts.append(
            f"On the way most meet “{worst.title}” ({_pct(worst.share)} of them), "
            "and the ones who keep going get through it."
        )
    if n.reward is not None and n.reward.reached:
        parts.append(
            f"Then the reward: “{n.reward.title}”, reached by {_pct(n.reward.share)} of them."
        )
    if quote:
        parts.append(f"In one member's words: “{quote}”")
    parts.append(f"Where they end up: “{j.transformation.to}”.")
    return " ".join(parts)
