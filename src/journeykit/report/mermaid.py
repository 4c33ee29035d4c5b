"""Mermaid ``journey`` diagrams: sections are phases (or stages), tasks are milestones."""

from __future__ import annotations

import re

from journeykit.journey.schema import Journey, Milestone

# Mermaid's journey score runs 1..5; the designed moment is the only emotion we know for sure.
MOMENT_SCORE = {"celebrate": 5, "neutral": 3, "breakdown": 1}
PHASE_TITLES = {"pre": "Before the core offer", "core": "The core offer", "post": "After"}


def _text(value: str) -> str:
    """Mermaid journey lines split on ':' and break on newlines and '#', ';'."""
    value = value.replace(":", " -").replace(";", ",").replace("#", "")
    return re.sub(r"\s+", " ", value).strip()


def mermaid_journey(
    journey: Journey, *, by: str = "phase", path_id: str | None = None, plays: bool = False
) -> str:
    """The journey as Mermaid ``journey`` text, in path order when a path is given; ``plays``
    adds a last section with each play (on that path), scored by the state it answers, its
    owner or channel as the actor."""
    if path_id is not None:
        order = journey.path(path_id).milestone_ids
        milestones = [journey.milestone(mid) for mid in order]
    else:
        milestones = list(journey.milestones)
    # Actors are comma-separated in Mermaid, so a comma inside a name would split it.
    actors = ", ".join(_text(p.name).replace(",", "") for p in journey.personas) or "Member"
    lines = ["journey", f"    title {_text(journey.title)}"]
    for title, group in _sections(journey, milestones, by):
        lines.append(f"    section {_text(title)}")
        lines += [f"      {_text(m.title)}: {MOMENT_SCORE[m.moment]}: {actors}" for m in group]
    if plays:
        lines += _plays(journey, path_id)
    return "\n".join(lines) + "\n"


PLAY_SCORE = {"stuck": 2, "strayed": 2, "lapsed": 1, "on_track": 4}


def _plays(journey: Journey, path_id: str | None) -> list[str]:
    chosen = [
        p for p in journey.plays if path_id is None or (p.who.path or None) in (path_id, None)
    ]
    if not chosen:
        return []
    out = ["    section Plays"]
    for p in chosen:
        where = f" at {journey.milestone(p.who.milestone).title}" if p.who.milestone else ""
        task = f"{p.title} ({p.who.status.replace('_', ' ')}{where})"
        out.append(
            f"      {_text(task)}: {PLAY_SCORE[p.who.status]}: {_text(p.owner or p.channel)}"
        )
    return out


def _sections(
    journey: Journey, milestones: list[Milestone], by: str
) -> list[tuple[str, list[Milestone]]]:
    if by == "phase":
        keys = [(ph, PHASE_TITLES[ph]) for ph in ("pre", "core", "post")]
        return [(t, g) for key, t in keys if (g := [m for m in milestones if m.phase == key])]
    sections = [(s.title, [m for m in milestones if m.stage == s.id]) for s in journey.stages]
    unstaged = [m for m in milestones if m.stage is None]
    return [(t, g) for t, g in [*sections, ("No stage", unstaged)] if g]
