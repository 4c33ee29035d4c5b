"""Errors of drawing: the tools a map or a report needs are missing or refused."""

from __future__ import annotations

from journeykit.errors import JourneykitError


class LayoutError(JourneykitError):
    """Graphviz is missing or refused the graph."""


class ExportError(JourneykitError):
    """An output the tools at hand cannot write."""
