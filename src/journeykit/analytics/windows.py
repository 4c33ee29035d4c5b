"""The funnel window: one default for every surface (CLI, map, report, web, API).

The default is the path's *designed* window: the sum of its steps' allowances (a step's
``within``, else its milestone's ``expected_within``, else 30 days). A journey that says a
trial should become a purchase within 14 days is measured against 14 days, without the user
having to repeat it on every command; an undesigned step gets the 30 days analytics tools use.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from journeykit.analytics.errors import WindowError
from journeykit.errors import JourneykitError
from journeykit.journey.durations import parse_duration
from journeykit.journey.schema import Journey, JourneyPath

UNDESIGNED_STEP = timedelta(days=30)
DESIGNED = "designed"
DEFAULT_WINDOW: Literal["designed"] = "designed"
# A window as asked for: a duration, None (no window) or "designed".
Window = timedelta | None | Literal["designed"]


def step_allowances(journey: Journey, path: JourneyPath) -> list[timedelta]:
    """Per step after the first: how long it may take after the previous one, by design."""
    return [
        step.within or journey.milestone(step.milestone).expected_within or UNDESIGNED_STEP
        for step in path.steps[1:]
    ]


def designed_window(journey: Journey, path: JourneyPath) -> timedelta:
    """How long the whole path should take by design: the sum of its steps' allowances."""
    return sum(step_allowances(journey, path), timedelta(0))


def resolve_window(journey: Journey, path: JourneyPath, window: Window) -> timedelta | None:
    """The duration a window stands for on ``path``."""
    return designed_window(journey, path) if window == DESIGNED else window  # type: ignore[return-value]


def parse_window(text: str) -> Window:
    """``30d``, ``2w``, ``none`` (no window) or ``designed`` (the path's designed window)."""
    word = text.strip().lower()
    if word in ("none", "0", "off"):
        return None
    if word == DESIGNED:
        return DEFAULT_WINDOW
    try:
        return parse_duration(word)
    except JourneykitError as exc:
        raise WindowError(f"window: {exc}; or 'designed', or 'none'") from None


def describe_window(window: timedelta | None, source: str) -> str:
    """The window as printed next to a funnel number: ``designed, 35 days`` or ``14 days``."""
    if window is None:
        return "no window"
    days = window / timedelta(days=1)
    size = f"{days:g} days" if days >= 1 else f"{window / timedelta(hours=1):g} hours"
    return f"{source}, {size}" if source == DESIGNED else size
