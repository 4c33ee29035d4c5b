"""The proof library: pain-to-pleasure stories from members' answers and testimonial events.

A story is a member's text with an *after* (the pleasure) and usually a *before* (the pain)
(``story_parts``), the milestone or stage it speaks of, the persona whose fear, frustration or
desire it answers (``personas``) and where to show it: the touchpoints before the milestones
where that persona drops most (``analytics.opportunities``).

Consent is one rule, kept here: a story whose author did not say yes (a ``consent`` column or
property that is not yes, or none at all) is shown to the team (``team_rows``, the CLI's table)
and never leaves the workspace. ``to_dict`` and ``rows`` (the JSON and CSV exports, the API,
the web page, the report and the wall) hold only consented stories and a count of the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from journeykit.discover.answers import consent_of
from journeykit.discover.personas import PersonaMatch, match_personas
from journeykit.discover.story_parts import Span, story_parts
from journeykit.discover.text import detect_language
from journeykit.journey.schema import Journey, Touchpoint

if TYPE_CHECKING:
    import pyarrow as pa

    from journeykit.analytics.opportunities import OpportunitiesResult, Opportunity
    from journeykit.discover.answers import Answers

PLACES = 2  # where to show a story: the persona's top leaks, this many


@dataclass(frozen=True)
class Placement:
    """Show the story on ``touchpoint`` (None: none is designed there) because ``persona`` leaks
    most before ``milestone`` (opportunity ``opportunity``)."""

    opportunity: str
    milestone: str
    touchpoint: Touchpoint | None

    def to_dict(self) -> dict[str, Any]:
        t = self.touchpoint
        return {
            "opportunity": self.opportunity,
            "before_milestone": self.milestone,
            "touchpoint": None if t is None else {"from": t.from_, "to": t.to,
                                                  "channel": t.channel, "action": t.action},
            "where": self.where,
        }  # fmt: skip

    @property
    def where(self) -> str:
        if self.touchpoint is None:
            return f"no touchpoint designed before {self.milestone}: add one"
        return f"{self.touchpoint.channel}: {self.touchpoint.action}"


@dataclass(frozen=True)
class Story:
    id: str
    source: str  # "answer" or "event"
    respondent: str | None
    text: str
    before: Span | None
    after: Span
    milestone: str | None  # what it speaks of, when that is a milestone of the journey
    stage: str | None
    language: str
    consent: bool
    persona: PersonaMatch
    show_at: tuple[Placement, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "respondent": self.respondent,
            "text": self.text, "before": None if self.before is None else self.before.text,
            "after": self.after.text, "milestone": self.milestone, "stage": self.stage,
            "language": self.language, "consent": self.consent,
            "persona": self.persona.to_dict(), "show_at": [p.to_dict() for p in self.show_at],
        }  # fmt: skip

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.source, "respondent": self.respondent,
            "persona": self.persona.persona, "answers": self.persona.field,
            "persona_item": self.persona.item, "score": self.persona.score,
            "milestone": self.milestone, "stage": self.stage,
            "before": None if self.before is None else self.before.text,
            "after": self.after.text, "consent": self.consent,
            "show_at": "; ".join(p.where for p in self.show_at),
        }  # fmt: skip


@dataclass(frozen=True)
class ProofLibrary:
    """Every story found; what leaves the workspace is only ``shareable``."""

    journey: str
    stories: tuple[Story, ...]
    read: int  # texts read (answers and events)

    @property
    def shareable(self) -> tuple[Story, ...]:
        return tuple(s for s in self.stories if s.consent)

    @property
    def withheld(self) -> int:
        return sum(not s.consent for s in self.stories)

    def for_persona(self, persona: str | None) -> tuple[Story, ...]:
        """The shareable stories matched to ``persona``, best match first."""
        mine = [s for s in self.shareable if s.persona.persona == persona]
        return tuple(sorted(mine, key=lambda s: (-s.persona.score, s.id)))

    def best(self, n: int = 2) -> tuple[Story, ...]:
        """Shareable stories to lead with: whole ones (a before and an after) matched to a
        persona, one persona after another, best match first."""
        whole = [s for s in self.shareable if s.before is not None and s.persona.persona]
        whole.sort(key=lambda s: (-s.persona.score, s.id))
        picked: list[Story] = []
        for s in whole:
            if all(p.persona.persona != s.persona.persona for p in picked):
                picked.append(s)
        picked += [s for s in whole if s not in picked]
        return tuple(picked[:n])

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "read": self.read,
            "stories": [s.to_dict() for s in self.shareable],
            "withheld_without_consent": self.withheld,
        }

    def rows(self) -> list[dict[str, Any]]:
        return [s.row() for s in self.shareable]

    def team_rows(self) -> list[dict[str, Any]]:
        """Every story, consented or not: for the team's eyes in the workspace only."""
        return [s.row() for s in self.stories]

    def to_pandas(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows())


def proof_library(
    journey: Journey,
    *,
    answers: Answers | None = None,
    texts: pa.Table | None = None,
    opportunities: OpportunitiesResult | None = None,
) -> ProofLibrary:
    """The stories in ``answers`` (real answers only) and in ``texts`` (testimonial and review
    events, ``analytics.texts.milestone_texts``), matched to personas and placed."""
    found: list[tuple[dict[str, Any], Span | None, Span]] = []
    read = 0
    for record in _records(journey, answers, texts):
        read += 1
        parts = story_parts(record["text"], record["language"])
        if parts.after is not None:
            found.append((record, parts.before, parts.after))
    matches = match_personas([r["text"] for r, _, _ in found], journey)
    stories = []
    for (r, before, after), match in zip(found, matches, strict=True):
        stories.append(Story(
            r["id"], r["source"], r["respondent"], r["text"], before, after, r["milestone"],
            r["stage"], r["language"], r["consent"], match,
            placements(match.persona, opportunities),
        ))  # fmt: skip
    return ProofLibrary(journey.id, tuple(stories), read)


def placements(persona: str | None, opps: OpportunitiesResult | None) -> tuple[Placement, ...]:
    """The touchpoints before the milestones where ``persona`` (everyone when None) drops most:
    its top leaks, one per milestone, each with its designed touchpoints (or none)."""
    if opps is None:
        return ()
    mine = persona is not None and persona in opps.by_persona
    ranked: Sequence[Opportunity] = opps.ranked(persona) if mine else opps.opportunities
    out: list[Placement] = []
    seen: set[str] = set()
    for o in ranked:
        if o.next is None or o.next in seen:
            continue
        seen.add(o.next)
        out += [Placement(o.id, o.next, t) for t in o.touchpoints] or [
            Placement(o.id, o.next, None)
        ]
        if len(seen) == PLACES:
            break
    return tuple(out)


def _records(
    journey: Journey, answers: Answers | None, texts: pa.Table | None
) -> list[dict[str, Any]]:
    out = []
    milestones = {m.id for m in journey.milestones}
    if answers is not None:
        for r in answers.answered.itertuples(index=False):
            where = None if _missing(r.stage) else str(r.stage)
            out.append({
                "id": _id("answer", str(r.row), str(r.text)), "source": "answer",
                "respondent": None if _missing(r.respondent) else str(r.respondent),
                "text": str(r.text), "language": str(r.language),
                "milestone": where if where in milestones else None,
                "stage": _stage(journey, where), "consent": r.consent is True,
            })  # fmt: skip
    if texts is not None:
        for row in texts.to_pylist():
            text = str(row["text"])
            try:
                consent = consent_of(row["consent"]) is True
            except ValueError:
                consent = False  # an unreadable consent is no consent
            out.append({
                "id": _id("event", str(row["customer_id"]), str(row["timestamp"]), text),
                "source": "event", "respondent": str(row["customer_id"]), "text": text,
                "language": detect_language(text), "milestone": row["milestone"],
                "stage": journey.milestone(row["milestone"]).stage, "consent": consent,
            })  # fmt: skip
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _stage(journey: Journey, where: str | None) -> str | None:
    """The lifecycle stage an answer's stage or milestone names."""
    if where is None:
        return None
    for m in journey.milestones:
        if m.id == where:
            return m.stage
    return where


def _id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:12]
