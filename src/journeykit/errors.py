"""One error tree for everything a user is meant to read and act on.

The library raises these with structured fields; the CLI and the web app each translate them in
exactly one place. Anything else that escapes is our bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import ClassVar


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix, or an empty string when nothing is close."""
    close = get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class JourneykitError(Exception):
    """Base for errors a user is meant to read and act on.

    ``http_status`` is what the web app answers with it: 400 (the request cannot be used)
    unless a subclass says otherwise. The CLI prints any of them as one line and exits 1.
    """

    http_status: ClassVar[int] = 400


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) at one place in a file."""

    field: str
    message: str
    line: int | None = None

    def render(self, path: Path | str | None) -> str:
        where = Path(path).name if path is not None else "<journey>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class JourneyFileError(JourneykitError):
    """A journey file that cannot be used: every problem names its line and field."""

    def __init__(self, path: Path | str | None, problems: Sequence[Problem]) -> None:
        self.path = Path(path) if path is not None else None
        self.problems = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(p.render(self.path) for p in self.problems)


class MissingExtraError(JourneykitError):
    """An optional part was used without its extra installed."""


class UnknownTemplateError(JourneykitError):
    def __init__(self, name: str, known: Sequence[str]) -> None:
        self.name, self.known = name, tuple(known)
        super().__init__(
            f"unknown template {name!r}{did_you_mean(name, known)} (known: {', '.join(known)})"
        )


class WorkspaceError(JourneykitError):
    """A workspace folder that is missing, malformed or would be overwritten."""


class WorkspaceBusy(WorkspaceError):
    """The workspace's database is held by another process past the wait (HTTP 503)."""

    http_status: ClassVar[int] = 503

    def __init__(self, database: Path | str) -> None:
        self.database = Path(database)
        super().__init__(
            f"the workspace is busy: {self.database.name} is in use by another journeykit "
            "process (an import, or the web app computing); try again when it is done"
        )


class DurationError(JourneykitError, ValueError):
    """A duration such as ``14d`` that could not be read."""
