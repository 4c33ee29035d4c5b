"""The app's own state: users, sessions and journey revisions, in a SQLite file in the workspace.

Not in the workspace's DuckDB file: that one has a single writer (an import), and logging in must
never wait for an import, nor an import for a login. SQLite in WAL mode lets the CLI
(``journeykit users ...``) and a running server share the file.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from journeykit.web.errors import StoreError, UserError, UserExists

STATE_FILE = "journeykit-web.sqlite"
ROLES = ("viewer", "editor", "admin")
SESSION_IDLE = 12 * 3600.0  # seconds without a request before a session ends
SESSION_MAX = 7 * 86400.0  # seconds after login before a session ends whatever happens
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
    "password_hash TEXT NOT NULL, created_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS sessions (token_hash TEXT PRIMARY KEY, user TEXT NOT NULL "
    "REFERENCES users(name) ON DELETE CASCADE, csrf TEXT NOT NULL, created_at REAL NOT NULL, "
    "seen_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS revisions (journey TEXT NOT NULL, number INTEGER NOT NULL, "
    "text TEXT NOT NULL, sha256 TEXT NOT NULL, author TEXT NOT NULL, created_at REAL NOT NULL, "
    "note TEXT NOT NULL, PRIMARY KEY (journey, number))",
)


@dataclass(frozen=True)
class User:
    name: str
    role: str


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


@dataclass(frozen=True)
class Revision:
    journey: str
    number: int
    text: str
    sha256: str
    author: str
    created_at: float
    note: str

    def summary(self) -> dict[str, object]:
        return {
            "number": self.number,
            "sha256": self.sha256,
            "author": self.author,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.created_at)),
            "note": self.note,
        }


def _store_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    text = str(exc)
    if "full" in text:
        what = "the disk is full; free some space and try again (nothing was changed)"
    elif "locked" in text or "busy" in text:
        what = "another journeykit process held it for 10 s; try again when it is done"
    elif isinstance(exc, sqlite3.OperationalError):
        what = f"{text}; check the file's permissions and the disk"
    else:
        what = (f"it is damaged ({text}); restore it from a backup, or move it aside to start "
                "with no users and no revision history")  # fmt: skip
    return StoreError(f"{path.name} (users, sessions, revisions): {what}")


def check_name(name: str) -> str:
    if not 1 <= len(name) <= 64 or not set(name) <= _NAME_CHARS:
        raise UserError(f"user name {name!r}: expected 1-64 letters, digits or . _ @ - (no spaces)")
    return name


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    """Users, sessions and revisions; every method opens its own short connection (thread-safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            for sql in _SCHEMA:
                db.execute(sql)

    @classmethod
    def of_workspace(cls, root: Path) -> Store:
        return cls(root / STATE_FILE)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=10)
            try:
                db.execute("PRAGMA foreign_keys=ON")
                with db:  # one transaction
                    yield db
            finally:
                db.close()
        except sqlite3.IntegrityError:
            raise  # a constraint our own code broke: a bug, keep its traceback
        except sqlite3.DatabaseError as exc:
            raise _store_error(self.path, exc) from exc

    # users
    def add_user(self, name: str, role: str, password: str) -> User:
        from journeykit.web.passwords import hash_password

        check_name(name)
        check_role(role)
        digest = hash_password(password)
        with self._db() as db:
            if db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
                raise UserExists(f"user {name!r} exists already (reset-password changes it)")
            db.execute("INSERT INTO users VALUES (?, ?, ?, ?)", (name, role, digest, time.time()))
        return User(name, role)

    def users(self) -> list[User]:
        with self._db() as db:
            rows = db.execute("SELECT name, role FROM users ORDER BY name").fetchall()
        return [User(n, r) for n, r in rows]

    def has_users(self) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def user(self, name: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT name, role FROM users WHERE name = ?", (name,)).fetchone()
        return User(*row) if row else None

    def _require(self, db: sqlite3.Connection, name: str) -> None:
        if not db.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone():
            from journeykit.web.errors import NotFound

            raise NotFound(f"no user {name!r}")

    def _keep_an_admin(self, db: sqlite3.Connection, name: str, action: str) -> None:
        # Without an admin nobody can manage users; without any user the app turns into the
        # no-users mode (everyone on this machine is admin). Checked in the same transaction.
        (role,) = db.execute("SELECT role FROM users WHERE name = ?", (name,)).fetchone()
        admins, users = db.execute(
            "SELECT count(*) FILTER (WHERE role = 'admin'), count(*) FROM users WHERE name != ?",
            (name,),
        ).fetchone()
        last = "last admin" if role == "admin" and admins == 0 else None
        if action == "remove" and users == 0:
            last = "last user (with no users, anyone on this machine is admin)"
        if last:
            raise UserError(f"cannot {action} {name!r}: they are the {last}; add an admin first")

    def remove_user(self, name: str) -> None:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")  # the check and the change in one write transaction
            self._require(db, name)
            self._keep_an_admin(db, name, "remove")
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))
            db.execute("DELETE FROM users WHERE name = ?", (name,))

    def set_password(self, name: str, password: str) -> None:
        """A new password also ends the user's sessions: a reset is often a response to a leak."""
        from journeykit.web.passwords import hash_password

        digest = hash_password(password)
        with self._db() as db:
            self._require(db, name)
            db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (digest, name))
            db.execute("DELETE FROM sessions WHERE user = ?", (name,))

    def set_role(self, name: str, role: str) -> None:
        check_role(role)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            self._require(db, name)
            if role != "admin":
                self._keep_an_admin(db, name, f"make {role} of")
            db.execute("UPDATE users SET role = ? WHERE name = ?", (role, name))

    def check_password(self, name: str, password: str) -> User | None:
        from journeykit.web.passwords import verify_password

        with self._db() as db:
            row = db.execute(
                "SELECT name, role, password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        # Unknown users cost a hash too, so timing does not tell which names exist.
        if not verify_password(row[2] if row else None, password):
            return None
        return User(row[0], row[1])

    # sessions
    def new_session(self, user: User) -> tuple[str, Session]:
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_digest(token), user.name, csrf, now, now),
            )
        return token, Session(user, csrf)

    def session(self, token: str) -> Session | None:
        now = time.time()
        with self._db() as db:
            row = db.execute(
                "SELECT u.name, u.role, s.csrf, s.created_at, s.seen_at FROM sessions s "
                "JOIN users u ON u.name = s.user WHERE s.token_hash = ?",
                (_digest(token),),
            ).fetchone()
            if row is None:
                return None
            if now - row[3] > SESSION_MAX or now - row[4] > SESSION_IDLE:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))
                return None
            if now - row[4] > 60:  # a write per minute at most, not per request
                db.execute(
                    "UPDATE sessions SET seen_at = ? WHERE token_hash = ?", (now, _digest(token))
                )
        return Session(User(row[0], row[1]), row[2])

    def end_session(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))

    # revisions
    def revisions(self, journey: str) -> list[Revision]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM revisions WHERE journey = ? ORDER BY number DESC", (journey,)
            ).fetchall()
        return [Revision(*r) for r in rows]

    def revision(self, journey: str, number: int) -> Revision | None:
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM revisions WHERE journey = ? AND number = ?", (journey, number)
            ).fetchone()
        return Revision(*row) if row else None

    def latest(self, journey: str) -> Revision | None:
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM revisions WHERE journey = ? ORDER BY number DESC LIMIT 1",
                (journey,),
            ).fetchone()
        return Revision(*row) if row else None

    def add_revision(self, journey: str, text: str, author: str, note: str) -> Revision:
        sha = hashlib.sha256(text.encode()).hexdigest()
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")  # the number read and the row written in one write
            (last,) = db.execute(
                "SELECT coalesce(max(number), 0) FROM revisions WHERE journey = ?", (journey,)
            ).fetchone()
            row = (journey, last + 1, text, sha, author, time.time(), note)
            db.execute("INSERT INTO revisions VALUES (?, ?, ?, ?, ?, ?, ?)", row)
        return Revision(*row)
