"""Errors about event data: each names the file and, where it can, the line and field."""

from __future__ import annotations

from pathlib import Path

from journeykit.errors import JourneykitError


class EventsError(JourneykitError):
    """Event data that cannot be used as given."""


class EventFileError(EventsError):
    """A whole file that cannot be imported (empty, binary, wrong columns, unreadable)."""

    def __init__(self, path: Path | str, problem: str, *, line: int | None = None) -> None:
        self.path, self.problem, self.line = Path(path), problem, line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.problem}"


class ColumnMappingError(EventsError):
    """A mapping option names a column the file does not have, or a required one is missing."""


class StrictImportError(EventsError):
    """``--strict`` was given and some rows were rejected; nothing was imported."""
