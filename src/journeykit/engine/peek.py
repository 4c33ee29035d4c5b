"""Is anything new at a database source? Asked before ibis is loaded, through the database's
own light driver (psycopg for PostgreSQL, MySQLdb for MySQL/MariaDB, sqlite3 for SQLite), so an
hourly ``sync`` that finds nothing costs the command's start and one indexed query per source
(issue 21).

Each pull records the rows it found at its cursor's value (``dbsource.Tail``: how many, a
digest of their typed content, the columns with their DuckDB types). The next sync reads the
rows at or past that value and compares each with what is stored (events.sync), so it finds
nothing new exactly when those rows are the recorded ones: the same columns and types, as many
rows, the same digest of the same typing (``events.sync.typed_pull``, run here in an in-memory
DuckDB over the fetched rows). Anything else (a row more, a changed or added column, a value
that types differently through this driver, a driver error, a source declared differently
from its registration or whose primary key, which it leaves to name its key or cursor, is no
longer the registered one, another kind of database) answers "maybe": the full sync runs and
decides. So this can make a sync faster, never different.

What a sync that finds nothing also does and this skips: bringing the stored milestone logs up
to date after a journey edit, and tidying the rejects folder; the next write to the workspace
does both, and the web app tags events itself while a log is stale.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.engine.remote import primary_key_of, split_table
from journeykit.events.dbsource import Cursor, DatabaseSource, Registered, Tail, local_file
from journeykit.events.sqltext import quote_ident, quote_literal
from journeykit.events.sync import SyncReport, tail_digest, typed_pull

# More rows than this at one cursor value (a bulk update stamped with one time): the full sync.
MAX_TAIL = 10_000
# The DuckDB type each PostgreSQL type arrives as in a pull (ADBC's Arrow types; numeric as
# float8, JSON and UUIDs as text: engine.remote); a column of any other type: the full sync.
_PG_TYPES = {
    "int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "FLOAT",
    "float8": "DOUBLE", "numeric": "DOUBLE", "bool": "BOOLEAN", "text": "VARCHAR",
    "varchar": "VARCHAR", "bpchar": "VARCHAR", "json": "VARCHAR", "jsonb": "VARCHAR",
    "uuid": "VARCHAR", "date": "DATE", "timestamp": "TIMESTAMP",
    "timestamptz": "TIMESTAMP WITH TIME ZONE",
}  # fmt: skip
# ...and each MySQL/MariaDB type (MySQLdb's field type codes; its description does not say
# whether an integer is unsigned, so either); decimals as double, JSON (MariaDB: LONGTEXT) as
# text, TIMESTAMP read in UTC as ibis's session is.
_MYSQL_TYPES = {
    1: ("TINYINT", "UTINYINT"), 2: ("SMALLINT", "USMALLINT"), 9: ("INTEGER", "UINTEGER"),
    3: ("INTEGER", "UINTEGER"), 8: ("BIGINT", "UBIGINT"), 4: ("FLOAT",), 5: ("DOUBLE",),
    0: ("DOUBLE",), 246: ("DOUBLE",), 15: ("VARCHAR",), 253: ("VARCHAR",), 254: ("VARCHAR",),
    252: ("VARCHAR",), 245: ("VARCHAR",), 10: ("DATE",), 12: ("TIMESTAMP",),
    7: ("TIMESTAMP WITH TIME ZONE",),
}  # fmt: skip
# Cursor types a SQLite parameter compares as the full sync's query does.
_SQLITE_CURSORS = {"int8": int, "int16": int, "int32": int, "int64": int, "string": str}

# Column names, the DuckDB types each column may have been pulled as (None: not known), rows.
Fetched = tuple[list[str], list[tuple[str, ...]] | None, list[tuple[Any, ...]]]


def nothing_new(
    sources: Sequence[DatabaseSource], known: Mapping[str, Registered]
) -> list[SyncReport] | None:
    """What ``sync`` would report for ``sources`` when none has anything new, or None when
    one may have (then only the full sync can tell)."""
    engine: DuckDBEngine | None = None
    reports = []
    try:
        for source in sources:
            earlier = known.get(source.name)
            cursor = earlier.cursor if earlier is not None else None
            if earlier is None or cursor is None or cursor.tail is None:
                return None
            tail = cursor.tail
            unstated = _left_to_primary_key(source, earlier.source)
            if unstated is None or tail.rows > MAX_TAIL:
                return None
            fetched = _fetch(earlier.source, cursor, tail.rows + 1, bool(unstated))
            if fetched is None or any(v != fetched[1] for v in unstated):
                return None
            engine = engine or DuckDBEngine()
            if not _same_rows(engine, earlier.source, tail, fetched[0]):
                return None
            reports.append(
                SyncReport(source.name, None, tail.rows, 0, 0, tail.rows, 0, None, cursor)
            )
    # Any failure here (no server, a bad password, a value this driver gives differently) is
    # the full sync's to report, in its own words: this only ever answers "maybe".
    except Exception:
        return None
    finally:
        if engine is not None:
            engine.close()
    return reports


def _left_to_primary_key(source: DatabaseSource, registered: DatabaseSource) -> list[Any] | None:
    """The registered key and cursor that ``source`` (as declared in journeykit.toml) leaves to
    the table's primary key, to check they still are; None: not the registered source."""
    if source.same_rows(registered):
        return []
    key, cursor = source.key or registered.key, source.cursor or registered.cursor
    if source.table is None or not replace(source, key=key, cursor=cursor).same_rows(registered):
        return None
    return [r for given, r in ((source.key, registered.key), (source.cursor, registered.cursor))
            if given is None]  # fmt: skip


def _fetch(
    source: DatabaseSource, cursor: Cursor, limit: int, with_key: bool
) -> tuple[Fetched, str | None] | None:
    """Up to ``limit`` rows at or past the cursor by the light driver, and (``with_key``) the
    table's primary key; None: no light driver for this database."""
    url = source.connection_url()
    scheme = url.partition("://")[0].lower()
    table = split_table(str(source.table)) if with_key else None
    if scheme in ("postgres", "postgresql", "mysql"):  # both drivers read % as a placeholder
        quote = _backquote if scheme == "mysql" else quote_ident
        where = _rows_at_or_past(source, quote).replace("%", "%%")
        query = f"{where}%s LIMIT {limit}"
        fetch = _mysql if scheme == "mysql" else _postgres
        return fetch(url, query, cursor.value, table)
    path = local_file(url)
    if scheme == "sqlite" and path is not None:
        wanted = _SQLITE_CURSORS.get(cursor.type)
        if wanted is None or type(cursor.value) is not wanted:
            return None
        query = f"{_rows_at_or_past(source, quote_ident)}? LIMIT {limit}"
        return _sqlite(path.resolve().as_uri(), query, cursor.value, table)
    return None


def _rows_at_or_past(source: DatabaseSource, quote: Callable[[str], str]) -> str:
    if source.query is not None:
        relation = f"({source.query}) AS jk_source"
    else:
        schema, table = split_table(str(source.table))
        relation = ".".join(quote(p) for p in (schema, table) if p is not None)
    return f"SELECT * FROM {relation} WHERE {quote(str(source.cursor))} >= "


def _backquote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _postgres(
    url: str, query: str, after: Any, table: tuple[str | None, str] | None
) -> tuple[Fetched, str | None]:
    import psycopg
    from psycopg.types.numeric import FloatLoader
    from psycopg.types.string import TextLoader

    with psycopg.connect(url, autocommit=True) as con:
        # As the pull's casts give them: JSON and UUIDs as their text, numeric as float8.
        for name in ("json", "jsonb", "uuid"):
            con.adapters.register_loader(name, TextLoader)
        con.adapters.register_loader("numeric", FloatLoader)
        key = primary_key_of(con, "postgres", *table) if table else None
        cur = con.execute(query, (after,))
        names: list[str] = []
        types: list[tuple[str, ...]] = []
        for d in cur.description or ():
            info = con.adapters.types.get(d.type_code)
            names.append(d.name)
            types.append((_PG_TYPES.get(info.name, "?"),) if info is not None else ())
        return (names, types, cur.fetchall()), key


def _mysql(
    url: str, query: str, after: Any, table: tuple[str | None, str] | None
) -> tuple[Fetched, str | None]:
    import getpass

    import MySQLdb

    parts = urlsplit(url)
    if parts.query:  # options ibis would pass on: the full sync reads them
        raise ValueError("options in the URL")
    host = parts.hostname or "localhost"
    con = MySQLdb.connect(  # as ibis's mysql backend connects
        user=parts.username or getpass.getuser(), password=unquote_plus(parts.password or ""),
        host="127.0.0.1" if host == "localhost" else host, port=parts.port or 3306,
        database=parts.path[1:].split("/", 1)[0], autocommit=True,
    )  # fmt: skip
    try:
        cur = con.cursor()
        cur.execute("SET @@session.time_zone = 'UTC'")
        key = primary_key_of(con, "mysql", *table) if table else None
        cur.execute(query, (after,))
        names = [d[0] for d in cur.description]
        types = [_MYSQL_TYPES.get(d[1], ()) for d in cur.description]
        return (names, types, list(cur.fetchall())), key
    finally:
        con.close()


def _sqlite(
    uri: str, query: str, after: Any, table: tuple[str | None, str] | None
) -> tuple[Fetched, str | None]:
    import sqlite3

    con = sqlite3.connect(f"{uri}?mode=ro", uri=True)  # never creates or changes the file
    try:
        key = primary_key_of(con, "sqlite", *table) if table else None
        cur = con.execute(query, (after,))
        return ([d[0] for d in cur.description], None, cur.fetchall()), key
    finally:
        con.close()


def _same_rows(engine: DuckDBEngine, source: DatabaseSource, tail: Tail, fetched: Fetched) -> bool:
    names, types, rows = fetched
    if names != [n for n, _ in tail.columns] or len(rows) != tail.rows:
        return False
    pulled_as = [t for _, t in tail.columns]
    if types is not None and any(t not in ok for t, ok in zip(pulled_as, types, strict=True)):
        return False
    # Values are written as literals: binding a parameter makes DuckDB import pandas.
    columns = ", ".join(f"{quote_ident(n)} {t}" for n, t in tail.columns)
    engine.execute(f"CREATE OR REPLACE TEMP TABLE jk_peek ({columns})")
    if rows:
        kinds = [t for _, t in tail.columns]
        values = ", ".join(
            "(" + ", ".join(_literal(v, t) for v, t in zip(row, kinds, strict=True)) + ")"
            for row in rows
        )
        engine.execute(f"INSERT INTO jk_peek VALUES {values}")
    select, params = typed_pull(source, dict(tail.columns), "SELECT 0 AS _ord, * FROM jk_peek")
    return tail_digest(engine, select, params) == (tail.rows, tail.digest)  # params written in


def _literal(value: Any, kind: str) -> str:
    """``value`` as DuckDB reads it into a column of type ``kind``: from its text, so a float
    is parsed (exactly) rather than converted from a decimal literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str | Decimal):
        text = str(value) if not isinstance(value, float) else repr(value)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        raise TypeError(f"no literal for {type(value).__name__}")  # the full sync decides
    return f"CAST({quote_literal(text)} AS {kind})"
