"""Reading a table or query of another database: any ibis backend by URL.

The query is built as an ibis expression (the cursor filter typed by the column, never pasted
into SQL) and compiled for the database's dialect. PostgreSQL rows are then fetched through
ADBC (binary COPY straight into Arrow, the ``postgres`` extra), about as fast as the server can
send them; every other backend through ibis's own ``to_pyarrow_batches``.

Types the workspace has no use for in their own form travel as text or float: JSON and UUIDs
as text (properties are JSON text anyway), decimals as float64 (event values are floats).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from journeykit._optional import require
from journeykit.errors import did_you_mean
from journeykit.events.dbsource import Cursor, DatabaseSource, SourceError, local_file

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

# URL scheme -> the extra that brings its ibis backend and driver.
EXTRAS = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
_PRIMARY_KEY_SQL = {
    "postgres": (
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass(%s) AND i.indisprimary"
    ),
    "mysql": (
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE "
        "CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA = coalesce(%s, DATABASE()) "
        "AND TABLE_NAME = %s"
    ),
}
# One part of a table's name: "quoted" (with "" for a quote) or bare.
_PART = r'"(?:[^"]|"")+"|[^."]+'
_QUALIFIED = re.compile(rf"({_PART})\.({_PART})")


def split_table(name: str) -> tuple[str | None, str]:
    """``schema.table`` (either part may be "quoted") as (schema, table); a plain name has no
    schema. Quotes only group: a quoted part is taken exactly as written inside them."""
    found = _QUALIFIED.fullmatch(name)
    if found is None:
        return None, _unquote(name)
    return _unquote(found[1]), _unquote(found[2])


def _unquote(part: str) -> str:
    if len(part) > 1 and part.startswith('"') and part.endswith('"'):
        return part[1:-1].replace('""', '"')
    return part


class RemoteTable:
    """One source's table or query on its database (see :class:`journeykit.events.sync.Remote`)."""

    def __init__(self, source: DatabaseSource) -> None:
        self.source = source
        self.url = source.connection_url()
        self.scheme = self.url.partition("://")[0].lower()
        path = local_file(self.url)
        if path is not None and not path.is_file():  # ibis would create an empty database
            raise SourceError(f"source {source.name!r}: no database file {path}")
        self.backend = _connect(self.url, self.scheme, source)
        self.schema: str | None = None
        self.table: str | None = None
        if source.table is not None:
            self.schema, self.table = split_table(source.table)
        if self.table is not None:
            self._check_table()
        try:
            if self.table is not None:
                self.relation = self.backend.table(self.table, database=self.schema)
            else:
                self.relation = self.backend.sql(str(source.query))
        except Exception as exc:  # the driver's error: bad SQL, no access
            raise SourceError(f"source {source.name!r}: {_first_line(exc)}") from None

    def _check_table(self) -> None:
        where = f"source {self.source.name!r}"
        try:
            tables = self.backend.list_tables(database=self.schema)
        except Exception as exc:  # the driver's error: no such schema, no access
            raise SourceError(f"{where}: schema {self.schema!r}: {_first_line(exc)}") from None
        if self.table not in tables:
            raise SourceError(
                f"{where}: no table {self.table!r}"
                + (f" in schema {self.schema!r}" if self.schema else "")
                + did_you_mean(str(self.table), tables)
            )

    def columns(self) -> dict[str, str]:
        return {n: str(t.copy(nullable=True)) for n, t in self.relation.schema().items()}

    def primary_key(self) -> str | None:
        if self.table is None:
            return None
        return primary_key_of(self.backend.con, self.scheme, self.schema, self.table)

    def expression(self, cursor: str | None, after: Cursor | None) -> ir.Table:
        """The rows to pull, with types made plain (see the module docstring)."""
        import ibis

        t = self.relation
        if cursor is not None and after is not None:
            t = t.filter(t[cursor] >= ibis.literal(after.value, type=after.type))
        plain = {}
        for name, dtype in t.schema().items():
            if dtype.is_decimal():
                plain[name] = t[name].cast("float64")
            elif dtype.is_json() or dtype.is_uuid() or dtype.is_inet() or dtype.is_macaddr():
                plain[name] = t[name].cast("string")
            else:
                plain[name] = t[name]
        return t.select(**plain)

    @contextmanager
    def rows(self, cursor: str | None, after: Cursor | None) -> Iterator[Any]:
        expr = self.expression(cursor, after)
        try:
            if self.scheme in ("postgres", "postgresql"):
                with _adbc_rows(self.url, expr) as reader:
                    yield reader
            else:
                yield expr.to_pyarrow_batches(chunk_size=100_000)
        except SourceError:
            raise
        except Exception as exc:
            if type(exc).__module__.startswith(("psycopg", "adbc", "sqlite3", "MySQLdb", "ibis")):
                raise SourceError(f"source {self.source.name!r}: {_first_line(exc)}") from None
            raise

    def close(self) -> None:
        self.backend.disconnect()


def primary_key_of(con: Any, scheme: str, schema: str | None, table: str) -> str | None:
    """A table's primary key when it is one column, asked through the database's own driver
    (ibis's connection, or engine.peek's)."""
    if scheme == "sqlite":
        info = con.execute(f"PRAGMA table_info({_sqlite_quote(table)})")
        keys = [row[1] for row in info.fetchall() if row[5]]
    elif scheme == "duckdb":
        found = con.execute(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE table_name = ? AND constraint_type = 'PRIMARY KEY'",
            [table],
        ).fetchall()
        keys = list(found[0][0]) if found else []
    elif scheme in ("postgres", "postgresql"):
        # to_regclass reads a name as SQL would: quoted, so case and dots are kept.
        parts = [p for p in (schema, table) if p is not None]
        regclass = ".".join('"' + p.replace('"', '""') + '"' for p in parts)
        with con.cursor() as cur:
            cur.execute(_PRIMARY_KEY_SQL["postgres"], (regclass,))
            keys = [row[0] for row in cur.fetchall()]
    elif scheme == "mysql":
        with con.cursor() as cur:
            cur.execute(_PRIMARY_KEY_SQL["mysql"], (schema, table))
            keys = [row[0] for row in cur.fetchall()]
    else:
        return None
    return keys[0] if len(keys) == 1 else None


@contextmanager
def _adbc_rows(url: str, expr: ir.Table) -> Iterator[Any]:
    import ibis

    dbapi = require("adbc_driver_postgresql.dbapi", extra="postgres")
    sql = str(ibis.to_sql(expr, dialect="postgres"))
    with dbapi.connect(url) as con, con.cursor() as cur:
        cur.execute(sql)
        yield cur.fetch_record_batch()


def _connect(url: str, scheme: str, source: DatabaseSource) -> BaseBackend:
    extra = EXTRAS.get(scheme)
    if extra is not None:
        module = "psycopg" if extra == "postgres" else {"mysql": "MySQLdb"}.get(extra, "sqlite3")
        require(module, extra=extra)
    import ibis

    try:
        return ibis.connect(url)
    except Exception as exc:  # unreachable server, wrong password, unknown scheme
        raise SourceError(f"source {source.name!r}: cannot connect: {_first_line(exc)}") from None


def _sqlite_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
