"""The journeys a workspace holds, their files, and every saved version of them.

A journey is a YAML file: the workspace's own (``journeykit.toml``'s ``journey``) and any in its
``journeys/`` folder. Its key in URLs is the file's stem, checked against a strict pattern and
resolved inside the workspace, so no request can name a file elsewhere.

Every save through the app is a revision in the app's store; a file changed on disk since (by an
editor or git) is recorded as a revision the first time the app sees it, so the history has no
holes and a restore never loses the outside change.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from journeykit.errors import JourneyFileError, JourneykitError, Problem, no_room
from journeykit.journey import Journey, parse_journey
from journeykit.web.errors import Conflict, NotFound
from journeykit.web.store import Revision, Store
from journeykit.workspace import JOURNEY_KEY as _KEY
from journeykit.workspace import JOURNEYS_FOLDER as FOLDER
from journeykit.workspace import Workspace, journey_files


@dataclass(frozen=True)
class Parsed:
    """A journey's text, and either the journey or the problems (each with its line)."""

    text: str
    journey: Journey | None
    problems: tuple[Problem, ...]

    @property
    def error_lines(self) -> set[int]:
        return {p.line for p in self.problems if p.line is not None}


def parse(text: str, name: str) -> Parsed:
    try:
        return Parsed(text, parse_journey(text, name), ())
    except JourneyFileError as exc:
        return Parsed(text, None, exc.problems)


class Journeys:
    def __init__(self, ws: Workspace, store: Store) -> None:
        self.ws = ws
        self.store = store
        # One writer at a time, and no reader between a file's write and its revision: saves
        # then never race for a revision number or a temp file, the latest revision is always
        # the file, and a save in flight never looks like a change "outside the app".
        self._lock = threading.RLock()

    def names(self) -> list[str]:
        return list(journey_files(self.ws))

    def file(self, key: str) -> Path:
        """The file of journey ``key``; anything that is not a known journey is NotFound."""
        if not _KEY.fullmatch(key):
            raise NotFound(f"no journey {key!r}")
        if key == self.ws.journey_file.stem:
            return self.ws.journey_file
        folder = (self.ws.root / FOLDER).resolve()
        for suffix in (".yaml", ".yml"):
            path = (folder / (key + suffix)).resolve()
            if path.parent == folder and path.is_file():
                return path
        raise NotFound(f"no journey {key!r}")

    def text(self, key: str) -> str:
        """The current text; recorded as a revision when the file changed outside the app."""
        path = self.file(key)
        with self._lock:
            text = path.read_text("utf-8")
            latest = self.store.latest(key)
            if latest is None or latest.sha256 != hashlib.sha256(text.encode()).hexdigest():
                note = "as found on disk" if latest is None else "changed on disk outside the app"
                self.store.add_revision(key, text, "(file)", note)
        return text

    def current(self, key: str) -> Revision:
        self.text(key)
        latest = self.store.latest(key)
        assert latest is not None
        return latest

    def load(self, key: str) -> Parsed:
        return parse(self.text(key), self.file(key).name)

    def save(self, key: str, text: str, author: str, note: str = "saved") -> Parsed | Revision:
        """Validate and save; an invalid text is returned with its problems and not written."""
        parsed = parse(text, self.file(key).name)
        if parsed.journey is None:
            return parsed
        with self._lock:
            self.text(key)  # an outside change becomes a revision before it is overwritten
            latest = self.store.latest(key)
            if latest is not None and latest.text == text:
                return self._put(self.file(key), text, lambda: latest)
            return self._put(
                self.file(key), text, lambda: self.store.add_revision(key, text, author, note)
            )

    def _put(self, path: Path, text: str, record: Callable[[], Revision]) -> Revision:
        """Write ``path`` whole, once ``record`` has kept the revision: a full disk, or a
        revision the store could not keep, leaves the file as it was."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, "utf-8")
            revision = record()
            tmp.replace(path)  # atomic: a reader sees the old or the new file, never half
        except OSError as exc:
            full = no_room(exc, path, "the journey was not saved; the file is as it was")
            if full is None:
                raise
            raise full from exc
        finally:
            tmp.unlink(missing_ok=True)
        return revision

    def create(self, key: str, template: str, author: str, text: str | None = None) -> Revision:
        """A new journey from a template (or from ``text``, a blank start)."""
        from journeykit.journey.templates import template_text

        if not _KEY.fullmatch(key):
            raise JourneykitError(
                f"journey name {key!r}: expected lower-case letters, digits, - or _ (max 64)"
            )
        text = template_text(template) if text is None else text
        with self._lock:
            if key in self.names():
                raise Conflict(f"a journey {key!r} exists already")
            folder = self.ws.root / FOLDER
            folder.mkdir(exist_ok=True)
            note = f"created from template {template}"
            return self._put(
                folder / f"{key}.yaml",
                text,
                lambda: self.store.add_revision(key, text, author, note),
            )

    def revision(self, key: str, number: int) -> Revision:
        self.file(key)
        # SQLite integers end at 2**63 - 1: a longer number names no revision (not a 500).
        rev = self.store.revision(key, number) if 0 < number < 2**63 else None
        if rev is None:
            raise NotFound(f"journey {key!r} has no revision {number}")
        return rev

    def restore(self, key: str, number: int, author: str) -> Parsed | Revision:
        old = self.revision(key, number)
        return self.save(key, old.text, author, f"restored revision {number}")


def diff(old: Revision, new: Revision) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs: kind is add, del, hunk or same."""
    lines = difflib.unified_diff(
        old.text.splitlines(), new.text.splitlines(),
        f"revision {old.number}", f"revision {new.number}", lineterm="", n=3,
    )  # fmt: skip
    out: list[tuple[str, str]] = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        out.append((kind, line))
    return out
