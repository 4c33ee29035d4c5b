"""Errors of the analyses: what the journey or the data cannot give."""

from __future__ import annotations

from journeykit.errors import JourneykitError


class AnalyticsError(JourneykitError):
    """An analysis asked for something the journey or the data cannot give."""


class WindowError(AnalyticsError, ValueError):
    """A funnel window that could not be read."""


class FunnelOptionError(AnalyticsError):
    """A funnel option, or a combination of options, that cannot be used (a peer's semantics
    lacks it). ``field`` is the option's name as ``funnel()`` takes it (``semantics``, ``mode``,
    ``clickhouse``, ``exclude``, ``window``) or ``trends``, so a form can show the message next
    to the control that caused it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
