"""One error tree for everything a user is meant to read and act on.

The library raises these with structured fields; the CLI and the web app each translate them in
exactly one place. Anything else that escapes is our bug and keeps its traceback.
"""

from __future__ import annotations

import errno
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

    def __init__(self, database: Path | str, wait: float | None = None) -> None:
        self.database = Path(database)
        waited = f" for {wait:g} s" if wait is not None else ""
        super().__init__(
            f"the workspace is busy: {self.database.name} is in use by another journeykit "
            f"process (an import, an act, or the web app computing){waited}; nothing was "
            "changed, try again when it is done"
        )


class WorkspaceStorageError(WorkspaceError):
    """The workspace's database file cannot be read or written: the file or the disk, not the
    request. ``detail`` is the database's own words; ``outcome`` what became of the change."""

    http_status: ClassVar[int] = 500

    def __init__(
        self, database: Path | str, detail: str, outcome: str = "nothing was changed"
    ) -> None:
        self.database, self.detail, self.outcome = Path(database), detail, outcome
        super().__init__(f"{self._what()} ({detail}); {outcome}. {self._advice()}")

    def _what(self) -> str:
        return f"{self.database}: the workspace database cannot be read or written"

    def _advice(self) -> str:
        return "Check the file's permissions and the disk."


class WorkspaceDamaged(WorkspaceStorageError):
    """The file's checksums or structure are broken: restore it or rebuild it from the events."""

    REMEDY = "restore the file from a backup, or move it aside and import the event files again"

    def _what(self) -> str:
        return f"{self.database}: the workspace database is damaged"

    def _advice(self) -> str:
        return (
            f"Run `journeykit doctor --workspace {self.database.parent}` to see what can still be "
            f"read, then {self.REMEDY}."
        )


class WorkspaceFull(WorkspaceStorageError):
    """No room to write (a full disk, a quota or a file-size limit): retry once there is."""

    http_status: ClassVar[int] = 503

    def _what(self) -> str:
        return f"{self.database}: no room left to write the workspace"

    def _advice(self) -> str:
        return (
            f"Free some space on the disk holding {self.database.parent} (or raise the quota "
            "or file-size limit), then try again."
        )


def no_room(exc: OSError, path: Path | str, outcome: str) -> WorkspaceFull | None:
    """A write the operating system refused for want of room (ENOSPC, EDQUOT, EFBIG) as the
    user's error naming ``path``; None for any other failure."""
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return None
    return WorkspaceFull(path, exc.strerror or str(exc), outcome)


class DurationError(JourneykitError, ValueError):
    """A duration such as ``14d`` that could not be read."""
