"""Durations as people write them in journey files and on the command line: ``14d``, ``36h``."""

from __future__ import annotations

import re
from datetime import timedelta

from journeykit.errors import DurationError

_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
DURATION_PATTERN = r"^\s*(\d+(\.\d+)?\s*[wdhms]\s*)+$"
# A century: longer than any journey, and far inside what dates and timedeltas can add up to.
MAX_DURATION = timedelta(days=36_500)


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Read ``2w``, ``14d``, ``36h``, ``90m``, ``45s`` or a combination (``1d12h``).

    A bare number is refused rather than guessed: is ``14`` days or hours?
    """
    if isinstance(text, timedelta):
        return text
    if not isinstance(text, str):
        raise DurationError(
            f"expected a duration such as '14d', '36h', '2w' or '1d12h', got {text!r}"
        )
    compact = text.strip().lower()
    if not re.fullmatch(DURATION_PATTERN, compact):
        raise DurationError(
            f"expected a duration such as '14d', '36h', '2w' or '1d12h', got {text!r}"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(compact))
    if seconds <= 0:
        raise DurationError(f"a duration must be longer than zero, got {text!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise DurationError(f"a duration must be at most 36500d (100 years), got {text!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact spelling in days, hours, minutes or seconds (``2w`` reads as ``14d``)."""
    seconds = int(value.total_seconds())
    if seconds != value.total_seconds():
        return f"{value.total_seconds()}s"
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
