"""Errors of the analyses: what the journey or the data cannot give."""

from __future__ import annotations

from journeykit.errors import JourneykitError


class AnalyticsError(JourneykitError):
    """An analysis asked for something the journey or the data cannot give."""


class WindowError(AnalyticsError, ValueError):
    """A funnel window that could not be read."""
