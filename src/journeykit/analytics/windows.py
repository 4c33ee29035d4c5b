"""The funnel window: one default for every surface (CLI, map, report, web, API).

The default is the path's *designed* window: the sum of its steps' allowances (a step's
``within``, else its milestone's ``expected_within``, else 30 days). A journey that says a
trial should become a purchase within 14 days is measured against 14 days, without the user
having to repeat it on every command; an undesigned step gets the 30 days analytics tools use.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from journeykit.analytics.errors import WindowError
from journeykit.errors import JourneykitError
from journeykit.journey.durations import parse_duration
from journeykit.journey.schema import Journey, JourneyPath

UNDESIGNED_STEP = timedelta(days=30)
DESIGNED = "designed"
DEFAULT_WINDOW: Literal["designed"] = "designed"
MAX_MONTHS = 1200  # a century, as the longest duration (journey.durations.MAX_DURATION)


@dataclass(frozen=True)
class CalendarMonths:
    """A window of whole calendar months: a conversion counts until the same day and time
    ``months`` later (the month's last day when it is shorter: Jan 31 + 1 month is Feb 28/29).

    A month is not a fixed duration, so it cannot be a ``timedelta``; this is what "within a
    month" means to a person, and what ``+ INTERVAL N MONTH`` meant in PostHog's SQL funnels.
    Days are UTC days.
    """

    months: int

    def __post_init__(self) -> None:
        if not 1 <= self.months <= MAX_MONTHS:
            raise WindowError(f"window: expected 1 to {MAX_MONTHS} months, got {self.months}")

    def deadline(self, start: datetime) -> datetime:
        """The last moment an attempt that started at ``start`` may convert."""
        index = start.month - 1 + self.months
        year, month = start.year + index // 12, index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return start.replace(year=year, month=month, day=day)


# A window as asked for: a duration, calendar months, None (no window) or "designed".
Window = timedelta | CalendarMonths | None | Literal["designed"]
# A window as resolved on a path.
Resolved = timedelta | CalendarMonths | None
_MONTHS = re.compile(r"^(\d+)\s*(mo|month|months)$")


def step_allowances(journey: Journey, path: JourneyPath) -> list[timedelta]:
    """Per step after the first: how long it may take after the previous one, by design."""
    return [
        step.within or journey.milestone(step.milestone).expected_within or UNDESIGNED_STEP
        for step in path.steps[1:]
    ]


def designed_window(journey: Journey, path: JourneyPath) -> timedelta:
    """How long the whole path should take by design: the sum of its steps' allowances."""
    return sum(step_allowances(journey, path), timedelta(0))


def resolve_window(journey: Journey, path: JourneyPath, window: Window) -> Resolved:
    """The duration a window stands for on ``path``."""
    return designed_window(journey, path) if window == DESIGNED else window  # type: ignore[return-value]


def parse_window(text: str) -> Window:
    """``30d``, ``2w``, ``1mo`` or ``calendar_month`` (calendar months), ``none`` (no window)
    or ``designed`` (the path's designed window)."""
    word = text.strip().lower()
    if word in ("none", "0", "off"):
        return None
    if word == DESIGNED:
        return DEFAULT_WINDOW
    if word == "calendar_month":
        return CalendarMonths(1)
    if found := _MONTHS.match(word):
        return CalendarMonths(int(found[1]))
    try:
        return parse_duration(word)
    except JourneykitError as exc:
        raise WindowError(
            f"window: {exc}; or '1mo' (calendar months), 'designed', or 'none'"
        ) from None


def describe_window(window: Resolved, source: str) -> str:
    """The window as printed next to a funnel number: ``designed, 35 days`` or ``14 days``."""
    if window is None:
        return "no window"
    if isinstance(window, CalendarMonths):
        n = window.months
        return f"{n} calendar month{'s' if n > 1 else ''}"
    days = window / timedelta(days=1)
    size = f"{days:g} days" if days >= 1 else f"{window / timedelta(hours=1):g} hours"
    return f"{source}, {size}" if source == DESIGNED else size
