"""Errors of discovery: answer files, theme edits, embedding models."""

from __future__ import annotations

from pathlib import Path

from journeykit.errors import JourneykitError


class DiscoverError(JourneykitError):
    """Base for discovery problems a user can fix."""


class AnswerFileError(DiscoverError):
    """An answer file that cannot be read at all (not one bad row: those are rejected)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path.name}: {problem}")


class ThemeEditsError(DiscoverError):
    """A theme edits file with an operation that cannot be read."""

    def __init__(self, path: Path | str | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        where = self.path.name if self.path is not None else "<edits>"
        super().__init__(f"{where}: {problem}")


class EmbeddingModelError(DiscoverError):
    """A sentence-embedding model that cannot be found or loaded offline."""


class UnknownStageError(DiscoverError):
    """A stage or milestone id that the journey does not have."""
