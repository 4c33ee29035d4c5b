"""Errors of choosing where queries run."""

from __future__ import annotations

from journeykit.errors import JourneykitError


class UnknownEngineError(JourneykitError):
    def __init__(self, scheme: str, known: tuple[str, ...]) -> None:
        self.scheme, self.known = scheme, known
        super().__init__(
            f"unknown engine URL scheme {scheme!r}; known: {', '.join(known)} "
            "(or any URL ibis.connect understands)"
        )
