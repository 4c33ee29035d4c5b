"""The story wall: one small self-contained HTML page per persona, to paste into a landing page
or an email. Only stories whose authors consented (``ProofLibrary.for_persona``); no respondent
ids, no scores, no script, inline styles only, so it survives an email client.
"""

from __future__ import annotations

from journeykit.discover.stories import ProofLibrary, Story
from journeykit.journey.schema import Journey
from journeykit.report.svg import esc

_CARD = ("margin:0 0 12px;padding:12px 16px;border-radius:8px;background:#f6f8fa;"
         "font-family:Georgia,serif;max-width:560px")  # fmt: skip


def _card(story: Story, journey: Journey) -> str:
    titles = {m.id: m.title for m in journey.milestones}
    before = (
        f'<p style="margin:0 0 6px;color:#6b3a32">{esc(story.before.text)}</p>'
        if story.before else ""
    )  # fmt: skip
    about = titles.get(story.milestone or "", "")
    cite = f'<footer style="font-size:12px;color:#55606b">{esc(about)}</footer>' if about else ""
    return (
        f'<blockquote class="story" data-story="{esc(story.id)}" style="{_CARD}">{before}'
        f'<p style="margin:0 0 6px;font-weight:bold;color:#1f5f3b">{esc(story.after.text)}</p>'
        f"{cite}</blockquote>"
    )


def wall_page(library: ProofLibrary, journey: Journey, persona: str) -> str:
    """The wall of ``persona``'s consented stories as one HTML document."""
    name = next((p.name for p in journey.personas if p.id == persona), persona)
    cards = "".join(_card(s, journey) for s in library.for_persona(persona))
    return (
        "<!doctype html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(journey.title)} · '
        f'{esc(name)}</title></head><body style="margin:16px">'
        f'<section class="story-wall" data-persona="{esc(persona)}">{cards}</section>'
        "</body></html>\n"
    )


def wall_personas(library: ProofLibrary, journey: Journey) -> list[str]:
    """The personas with at least one story to show."""
    return [p.id for p in journey.personas if library.for_persona(p.id)]
