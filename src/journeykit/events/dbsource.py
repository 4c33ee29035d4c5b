"""Database and warehouse sources: what to read (a table or a query), how to know a row again
(its key) and where the last pull stopped (its cursor).

A source is registered in the workspace's ``sources`` table by the first ``import --from``, or
declared by name in ``journeykit.toml`` (``[sources.NAME]``); ``sync`` pulls from it again.
The registry keeps the URL without its password: a password comes from the environment at run
time (the URL given as ``env:VARIABLE``, or the driver's own ``PGPASSWORD`` / ``~/.pgpass``), so
no secret is written to the workspace.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from journeykit.errors import did_you_mean
from journeykit.events.errors import EventsError
from journeykit.events.sources import ColumnMap

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_ENV = "env:"


class SourceError(EventsError):
    """A database source that cannot be used as given (unknown, ill-defined or unreachable)."""


@dataclass(frozen=True)
class Tail:
    """The rows a pull found at its cursor's value, as the workspace typed them: how many, a
    digest of their typed content, and the source's columns with their DuckDB types. A later
    sync that finds exactly these rows at or past the cursor has nothing new (engine.peek)."""

    rows: int
    digest: str
    columns: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Cursor:
    """Where a source's last pull stopped: the largest cursor value seen, with its type (an
    ibis type name, so the next pull compares with a value of the column's own type)."""

    type: str
    value: Any
    tail: Tail | None = field(default=None, compare=False)

    def to_json(self) -> str:
        """Type and value, for people and reports (the tail is the registry's)."""
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        return json.dumps({"type": self.type, "value": value})

    def stored_json(self) -> str:
        data = json.loads(self.to_json())
        if self.tail is not None:
            data["tail"] = asdict(self.tail)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Cursor:
        data = json.loads(text)
        value = data["value"]
        if data["type"].startswith(("timestamp", "date")) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        tail = data.get("tail")  # absent in workspaces synced before it was kept
        if tail is not None:
            columns = tuple((str(n), str(t)) for n, t in tail["columns"])
            tail = Tail(int(tail["rows"]), str(tail["digest"]), columns)
        return cls(data["type"], value, tail)


@dataclass(frozen=True)
class DatabaseSource:
    """One table (or query) of events in a database or warehouse, named in the workspace.

    ``cursor``: a column whose value only grows as rows are added or changed (an increasing
    id, an updated-at time); each pull reads the rows at or past the last value seen. ``key``:
    the column that names a row (the primary key), so a changed row replaces its earlier
    version instead of being added again. Both default to the table's primary key when it is
    one integer column.
    """

    name: str
    url: str
    table: str | None = None
    query: str | None = None
    cursor: str | None = None
    key: str | None = None
    mapping: ColumnMap = field(default_factory=ColumnMap)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if (self.table is None) == (self.query is None):
            raise SourceError(f"source {self.name!r}: give either a table or a query (not both)")
        if not _NAME.fullmatch(self.name):
            raise SourceError(
                f"source name {self.name!r}: use letters, digits, '_', '-' or '.' (up to 63)"
            )

    @property
    def what(self) -> str:
        return f"table {self.table}" if self.table else "a query"

    def describe(self) -> str:
        """For people: name, where (no password) and what; never a secret."""
        return f"{self.name} ({public_url(self.url)}, {self.what})"

    def connection_url(self) -> str:
        """The URL to connect with: read from the environment when given as ``env:NAME``."""
        if not self.url.startswith(_ENV):
            return self.url
        variable = self.url.removeprefix(_ENV)
        found = os.environ.get(variable)
        if not found:
            raise SourceError(
                f"source {self.name!r}: the environment variable {variable} (its URL) is not set"
            )
        return found

    def to_json(self) -> str:
        data = asdict(self)
        data["mapping"] = json.loads(self.mapping.to_json())
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatabaseSource:
        data = json.loads(text)
        mapping = data.pop("mapping")
        mapping["customer_id"] = tuple(mapping["customer_id"])
        return cls(**data, mapping=ColumnMap(**mapping))

    def same_rows(self, other: DatabaseSource) -> bool:
        """Would ``other`` read the same rows the same way (the URL's password aside)?"""
        return storable(self) == storable(other)


def public_url(url: str) -> str:
    """The URL without its password, for storing and showing; ``env:NAME`` stays as it is."""
    if url.startswith(_ENV):
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=user + host))


def storable(source: DatabaseSource) -> DatabaseSource:
    """The source as the registry keeps it: a local database file's path made absolute (a sync
    may run from another folder) and no password."""
    url = public_url(source.url)
    path = local_file(url)
    if path is not None:
        url = f"{url.partition('://')[0]}://{path.resolve()}"
    return replace(source, url=url)


def local_file(url: str) -> Path | None:
    """The database file of a ``sqlite://`` or ``duckdb://`` URL, as ibis reads them:
    ``sqlite://relative.db`` or ``sqlite:///absolute/path.db``."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("sqlite", "duckdb") or rest in ("", ":memory:"):
        return None
    return Path(rest)


@dataclass(frozen=True)
class Registered:
    source: DatabaseSource
    cursor: Cursor | None
    synced_at: datetime | None


def registered(runner: Any) -> dict[str, Registered]:
    """The sources recorded in the workspace's database, by name."""
    rows = runner.fetchall("SELECT name, spec, cursor, synced_at FROM sources ORDER BY name")
    return {
        name: Registered(
            DatabaseSource.from_json(spec), Cursor.from_json(cursor) if cursor else None, synced
        )
        for name, spec, cursor, synced in rows
    }


def record(runner: Any, source: DatabaseSource, cursor: Cursor | None, *, new: bool) -> None:
    """Write the source and its cursor (inside the caller's transaction)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    if new:
        runner.execute(
            "INSERT INTO sources VALUES ($name, $spec, $cursor, $now, $now)",
            {"name": source.name, "spec": storable(source).to_json(),
             "cursor": cursor.stored_json() if cursor else None, "now": now},
        )  # fmt: skip
    else:
        runner.execute(
            "UPDATE sources SET cursor = $cursor, synced_at = $now WHERE name = $name",
            {"name": source.name, "cursor": cursor.stored_json() if cursor else None, "now": now},
        )


def record_tail(runner: Any, source: DatabaseSource, cursor: Cursor) -> None:
    """Write the rows found at an unmoved cursor; the source was not synced further."""
    runner.execute(
        "UPDATE sources SET cursor = $cursor WHERE name = $name",
        {"name": source.name, "cursor": cursor.stored_json()},
    )


def declared(settings_file: Path) -> dict[str, DatabaseSource]:
    """Sources declared in ``journeykit.toml`` as ``[sources.NAME]`` tables.

    Keys: ``url`` (or ``url_env``, the name of an environment variable holding it), ``table`` or
    ``query``, and optionally ``cursor``, ``key``, ``timezone``, ``customer_id``, ``event``,
    ``timestamp``, ``value``, ``properties``.
    """
    if not settings_file.is_file():
        return {}
    try:
        tables = tomllib.loads(settings_file.read_text("utf-8")).get("sources", {})
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(f"{settings_file}: {exc}") from None
    return {name: _from_settings(settings_file, name, spec) for name, spec in tables.items()}


_SETTINGS_KEYS = {
    "url", "url_env", "table", "query", "cursor", "key", "timezone",
    "customer_id", "event", "timestamp", "value", "properties",
}  # fmt: skip


def _from_settings(path: Path, name: str, spec: Any) -> DatabaseSource:
    where = f"{path.name}: [sources.{name}]"
    if not isinstance(spec, dict):
        raise SourceError(f"{where}: expected a table of settings")
    for key in spec:
        if key not in _SETTINGS_KEYS:
            raise SourceError(f"{where}: unknown key {key!r}{did_you_mean(key, _SETTINGS_KEYS)}")
    if ("url" in spec) == ("url_env" in spec):
        raise SourceError(f"{where}: give url or url_env (an environment variable's name)")
    url = spec["url"] if "url" in spec else _ENV + str(spec["url_env"])
    ids = spec.get("customer_id")
    mapping = ColumnMap(
        customer_id=tuple(ids) if isinstance(ids, list) else (ids or "customer_id",),
        event=spec.get("event", "event"),
        timestamp=spec.get("timestamp", "timestamp"),
        value=spec.get("value"),
        properties=spec.get("properties"),
    )
    try:
        return DatabaseSource(
            name, url, spec.get("table"), spec.get("query"), spec.get("cursor"),
            spec.get("key"), mapping, spec.get("timezone", "UTC"),
        )  # fmt: skip
    except SourceError as exc:
        raise SourceError(f"{where}: {exc}") from None
