"""Timeline to draft: themes become proposed milestones of a journey, with quotes as evidence.

Each proposal is a milestone with ``status: proposed`` (``journeykit validate`` warns until a
person accepts or deletes it) and its theme's quotes as ``evidence``. A journey without designed
paths gets its current milestones as an explicit ``main`` path, so proposals never join what is
measured until a person adds them.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from journeykit.discover.errors import DiscoverError
from journeykit.discover.themes import Quote, Theme, ThemeResult
from journeykit.journey import Journey, parse_journey
from journeykit.journey.load import source_of
from journeykit.journey.schema import Phase


def stage_order(journey: Journey) -> dict[str, int]:
    """Position of each stage and milestone id: stages in order, milestones by their stage."""
    order = {s.id: i for i, s in enumerate(journey.stages)}
    for i, m in enumerate(journey.milestones):
        order[m.id] = order.get(m.stage or "", len(journey.stages) + i)
    return order


def draft_journey(journey: Journey, result: ThemeResult, *, quotes: int = 3) -> Journey:
    """The journey with one proposed milestone per theme, in timeline order."""
    data: dict[str, Any] = journey.model_dump(by_alias=True, mode="json", exclude_defaults=True)
    data["stages"] = [s.model_dump(mode="json") for s in journey.stages]
    if not journey.paths:
        data["paths"] = [{"id": "main", "steps": [m.id for m in journey.milestones]}]
    used = {m.id for m in journey.milestones}
    proposals = [_proposal(t, journey, used, quotes) for t in result.timeline()]
    data["milestones"] = list(data["milestones"]) + proposals
    return Journey.model_validate(data)


def draft_yaml(journey: Journey, result: ThemeResult) -> str:
    """The draft as YAML, checked by parsing it back with the journey validator."""
    text = draft_journey(journey, result).to_yaml()
    parse_journey(text)
    return text


def accept_theme(journey: Journey, theme: Theme, *, quotes: int = 3) -> Journey:
    """The journey with the theme's milestone accepted: placed as the draft would propose it,
    its quotes as evidence, on no path yet (a journey without paths gets its current milestones
    as ``main``, as in the draft, so what is measured does not change until a person says so).

    The result keeps the loaded file's YAML tree: ``dump_yaml`` writes it with comments and key
    order kept. A theme already accepted (a milestone holds its quotes) is refused.
    """
    for m in journey.milestones:
        if any(e.theme == theme.id for e in m.evidence):
            raise DiscoverError(f"theme {theme.label!r} is already in the journey as {m.id!r}")
    data: dict[str, Any] = journey.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if not journey.paths:
        data["paths"] = [{"id": "main", "steps": [m.id for m in journey.milestones]}]
    used = {m.id for m in journey.milestones}
    milestone = _proposal(theme, journey, used, quotes, prefix="")
    del milestone["status"]
    data["milestones"] = [*data.get("milestones", []), milestone]
    accepted = Journey.model_validate(data)
    accepted._source = source_of(journey)
    return accepted


def _proposal(
    theme: Theme, journey: Journey, used: set[str], quotes: int, prefix: str = "proposed_"
) -> dict[str, Any]:
    stage = _top_stage(theme, journey)
    milestone: dict[str, Any] = {
        "id": _unique_id(theme.label, used, prefix),
        "title": theme.label[:1].upper() + theme.label[1:],
        "phase": _phase(stage, journey),
        "moment": theme.moment,
        "description": (
            f"From discovery: theme {theme.id}, {theme.size} answers, {theme.moment}. "
            f"Raised at: {_stages_text(theme)}."
        ),
        "status": "proposed",
        "evidence": [_evidence(q, theme) for q in theme.quotes[:quotes]],
    }
    if stage is not None:
        milestone["stage"] = stage
    return milestone


def _top_stage(theme: Theme, journey: Journey) -> str | None:
    if not theme.stages:
        return None
    top = max(theme.stages, key=lambda sc: sc[1])[0]
    if top in {s.id for s in journey.stages}:
        return top
    for m in journey.milestones:
        if m.id == top:
            return m.stage
    return None


def _phase(stage: str | None, journey: Journey) -> Phase:
    phases = Counter(m.phase for m in journey.milestones if stage is not None and m.stage == stage)
    return phases.most_common(1)[0][0] if phases else "pre"


def _unique_id(label: str, used: set[str], prefix: str = "proposed_") -> str:
    base = prefix + (re.sub(r"[^a-z0-9]+", "_", _ascii(label.lower())).strip("_") or "theme")
    base = base[:56]
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}_{n}", n + 1
    used.add(candidate)
    return candidate


def _ascii(text: str) -> str:
    from journeykit.discover.text import strip_accents

    return strip_accents(text)


def _evidence(quote: Quote, theme: Theme) -> dict[str, str]:
    out = {"quote": quote.text, "theme": theme.id}
    if quote.respondent is not None:
        out["respondent"] = quote.respondent
    return out


def _stages_text(theme: Theme) -> str:
    if not theme.stages:
        return "no stage given"
    return ", ".join(f"{stage} ({count})" for stage, count in theme.stages)
