"""Where a path's early win and core offer are, by design (used by the lint and the analyses)."""

from __future__ import annotations

from journeykit.journey.schema import Journey, JourneyPath


def early_win_milestone(journey: Journey, path: JourneyPath) -> str | None:
    """The path's early win: its first ``celebrate`` milestone after the entry step and before
    the core offer, or None when none is designed there. (The entry step is where customers
    arrive, not a win they earned, so it never counts.)"""
    for step in path.steps[1:]:
        m = journey.milestone(step.milestone)
        if m.phase == "core":
            return None
        if m.moment == "celebrate":
            return m.id
    return None


def core_step(journey: Journey, path: JourneyPath) -> str | None:
    """The path's first core milestone (the core offer), or None."""
    return next(
        (s.milestone for s in path.steps if journey.milestone(s.milestone).phase == "core"), None
    )
