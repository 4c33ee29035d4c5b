"""Where queries run: ``connect(url)`` gives an :class:`Engine`; analyses only see ibis Tables.

Schemes
-------
``duckdb://``                    embedded DuckDB in memory (the default)
``duckdb:///path/file.duckdb``   a DuckDB database file (a workspace's database)
``spark://...``                  Spark, imported only when used (the ``spark`` extra)
anything else                    handed to ``ibis.connect(url)`` (postgres, clickhouse, ...)

Example
-------
>>> import journeykit.engine as je
>>> engine = je.connect()                           # doctest: +SKIP
>>> events = engine.events("workspace-dir")         # doctest: +SKIP
>>> mapping = ColumnMap(customer_id=("user_id",))
>>> events = engine.events("export.csv", mapping=mapping)  # doctest: +SKIP
>>> events.group_by("event").count().to_pandas()    # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from journeykit.engine.errors import UnknownEngineError
from journeykit.errors import JourneykitError

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends import BaseBackend

    from journeykit.events.sources import ColumnMap

KNOWN_SCHEMES = ("duckdb", "spark")


class Engine(Protocol):
    """What every engine offers: an ibis backend and events in the canonical schema.

    ``events(source)`` takes a workspace folder, an events file (CSV, CSV.gz, Parquet, JSON lines;
    read and cleaned on the fly with the same mapping options as ``journeykit import``), or the
    name of a table on the backend. The table has the columns of
    :data:`journeykit.events.schema.EVENT_COLUMNS`: timestamps are UTC without a zone.
    """

    @property
    def con(self) -> BaseBackend: ...

    def events(
        self,
        source: str | Path,
        *,
        mapping: ColumnMap | None = None,
        timezone: str = "UTC",
        delimiter: str | None = None,
    ) -> ir.Table: ...


class SqlRunner(Protocol):
    """The slice of the DuckDB engine the importer needs, so events code never imports duckdb."""

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None: ...
    def fetchall(
        self, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[tuple[Any, ...]]: ...
    def fetchone(self, sql: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...]: ...


def storage_error_of(exc: BaseException) -> JourneykitError | None:
    """DuckDB's error about a database file (damaged, no room) as the user's error, naming the
    file this process opened last; None for anything else. For the CLI's one translation."""
    if "duckdb" not in sys.modules:  # then ``exc`` cannot be DuckDB's, and importing it is slow
        return None
    from journeykit.engine.duckdb import storage_error

    return storage_error(exc)


def connect(url: str = "duckdb://") -> Engine:
    """An engine for ``url``; see the module docstring for the schemes."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        raise UnknownEngineError(url, KNOWN_SCHEMES)
    if scheme == "duckdb":
        from journeykit.engine.duckdb import DuckDBEngine

        return DuckDBEngine.from_url(url)
    if scheme == "spark":
        from journeykit._optional import require

        require("pyspark", extra="spark")
        spark = require("journeykit.engine.spark", extra="spark")  # pulls pyspark only now
        engine: Engine = spark.SparkEngine.from_url(url)
        return engine
    return IbisEngine.from_url(url)


class IbisEngine:
    """Any other ibis backend: tables are read in place; files and workspaces are read with
    DuckDB and uploaded as temporary tables."""

    def __init__(self, backend: BaseBackend) -> None:
        self._backend = backend

    @classmethod
    def from_url(cls, url: str) -> IbisEngine:
        import ibis

        return cls(ibis.connect(url))

    @property
    def con(self) -> BaseBackend:
        return self._backend

    def events(
        self,
        source: str | Path,
        *,
        mapping: ColumnMap | None = None,
        timezone: str = "UTC",
        delimiter: str | None = None,
    ) -> ir.Table:
        if not Path(source).exists():
            return self._backend.table(str(source))
        from journeykit.analytics.fetch import to_arrow
        from journeykit.engine.duckdb import DuckDBEngine

        local = DuckDBEngine()
        table = local.events(source, mapping=mapping, timezone=timezone, delimiter=delimiter)
        return self.upload(to_arrow(table), f"jk_events_{abs(hash(str(source))):x}")

    def upload(self, table: Any, name: str) -> ir.Table:
        """Put an Arrow table of events on the backend as a temporary table."""
        return self._backend.create_table(name, table, temp=True, overwrite=True)


def resolve_events(
    engine: Any,
    source: str | Path,
    *,
    mapping: ColumnMap | None,
    timezone: str,
    delimiter: str | None,
) -> ir.Table:
    """The DuckDB engine's ``events``: workspace folder, events file, or table name."""
    from journeykit.events.schema import EVENT_COLUMNS
    from journeykit.workspace import SETTINGS_FILE, open_workspace

    path = Path(source)
    if path.is_dir() and (path / SETTINGS_FILE).is_file():
        ws = open_workspace(path)
        from journeykit.engine.workspace import ensure_tables

        # A workspace nothing was imported into yet gets its (empty) tables. Open the file for
        # writing only then: another engine in this process may already hold it read-only.
        if not ws.database.exists():
            ensure_tables(ws)
        alias = engine.attach_read_only(ws.database)
        if not engine.has_table(alias, "events"):
            engine.detach(alias)
            ensure_tables(ws)
            alias = engine.attach_read_only(ws.database)
        table = engine.con.table("events", database=(alias, "main"))
    elif path.is_file():
        from journeykit.events.reader import read_events

        table = read_events(
            engine, path, mapping=mapping, timezone=timezone, delimiter=delimiter
        ).events
    else:
        table = engine.con.table(str(source))
    return table.select(*EVENT_COLUMNS)
