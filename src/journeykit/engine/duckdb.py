"""The embedded DuckDB engine: the default, in memory or in a workspace's database file.

This module (with ``engine/__init__.py``) is the only place that imports duckdb; the events code
talks to it through :class:`journeykit.engine.SqlRunner`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from journeykit.errors import WorkspaceBusy, WorkspaceDamaged, WorkspaceFull, WorkspaceStorageError
from journeykit.events.sqltext import quote_ident, quote_literal

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pyarrow as pa
    from ibis.backends.duckdb import Backend

    from journeykit.events.sources import ColumnMap

DuckDBError = duckdb.Error  # for the web app's handler, which translates it (storage_error)
Params = Mapping[str, Any] | None
# ``$name`` outside quotes ('text', "identifier"): the parameters ``inline`` writes in.
_PLACEHOLDER = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|\$([A-Za-z_][A-Za-z0-9_]*)""")


def inline(sql: str, params: Params) -> tuple[str, Params]:
    """``sql`` with its parameters written in as typed literals, when each value has one.

    Binding any parameter makes DuckDB's Python client import pandas and pyarrow (0.4-0.55 s
    of CPU, a tenth of a 2M-row import as a command) to check whether the value is one of
    theirs; a literal costs nothing. Values without a literal here are bound as before.
    """
    if not params:
        return sql, None
    try:
        written = {k: _literal(v) for k, v in params.items()}
    except TypeError:
        return sql, params

    def put(match: re.Match[str]) -> str:
        name = match.group(1)
        return written.get(name, match.group(0)) if name else match.group(0)

    return _PLACEHOLDER.sub(put, sql), None


def _literal(value: Any) -> str:
    import datetime as dt
    import math

    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # a bare 0.1 is a DECIMAL in DuckDB; a bound float a DOUBLE
        number = float(value)  # numpy's float64 repr is "np.float64(...)"
        text = repr(number) if math.isfinite(number) else str(number)
        return f"CAST('{text}' AS DOUBLE)"
    if isinstance(value, str) and "\x00" not in value:
        return quote_literal(value)
    if type(value) is dt.datetime:  # not a subclass (pandas' Timestamp has nanoseconds)
        kind = "TIMESTAMP" if value.tzinfo is None else "TIMESTAMPTZ"
        return f"CAST('{value.isoformat(sep=' ')}' AS {kind})"
    if type(value) is dt.date:
        return f"CAST('{value.isoformat()}' AS DATE)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    raise TypeError(type(value).__name__)


ProgressFn = Callable[[float], None]
T = TypeVar("T")
# How long opening a workspace's database waits for another process to let go of it (DuckDB
# allows one writer, or readers, per file): the web app holds it only while computing, an
# import for its whole run. Past this, WorkspaceBusy says so instead of a lock traceback.
LOCK_WAIT = 10.0
# DuckDB's words for a file it cannot trust: a block or WAL entry whose checksum fails, a header
# that is not DuckDB's, a file shorter than its blocks, an instance stopped by such an error.
_DAMAGED = re.compile(
    r"Corrupt database file|Corrupt WAL file|Failure while replaying WAL|not a valid DuckDB "
    r"database file|Could not read enough bytes|database has been invalidated"
)
# ...and for no room to write: ENOSPC, EDQUOT, and EFBIG (a file-size limit).
_FULL = re.compile(r"No space left on device|Disk quota exceeded|File too large")
_WRITING = re.compile(r'Could not write file "([^"]+)"')
# The files this process opened, latest last. DuckDB's checksum errors do not name the file,
# and in the CLI they surface from a lazy ibis query long after the open (see storage_error).
_opened: dict[str, None] = {}


def storage_error(
    exc: BaseException,
    database: Path | str | None = None,
    outcome: str = "nothing was changed",
    *,
    opening: bool = False,
) -> WorkspaceStorageError | None:
    """DuckDB's complaint about the database file itself (damaged, no room to write, unreadable)
    as the user's error naming the file and what to do; None for anything else.

    ``database`` defaults to the file this process opened last. ``opening``: the error came
    from opening ``database``, so any IO error is about it (later, one may be about an events
    file being read).
    """
    if not isinstance(exc, duckdb.Error):
        return None
    detail = re.sub(r"^(TransactionContext Error: |IO Error: )", "", str(exc))
    if database is None:
        database = next(reversed(_opened), None)
        if database is None:
            return None
    if _FULL.search(detail):
        written = _WRITING.search(detail)
        return WorkspaceFull(written.group(1) if written else database, detail, outcome)
    if _DAMAGED.search(detail) or isinstance(exc, duckdb.FatalException):
        return WorkspaceDamaged(database, detail, outcome)
    if opening and isinstance(exc, duckdb.IOException):
        return WorkspaceStorageError(database, detail, outcome)
    return None


@contextmanager
def storage_errors(database: Path | str, outcome: str = "nothing was changed") -> Iterator[None]:
    """Inside the block, errors of the database file itself become :func:`storage_error`'s."""
    try:
        yield
    except duckdb.Error as exc:
        translated = storage_error(exc, database, outcome)
        if translated is None:
            raise
        raise translated from exc


def _open(database: str | Path, open_it: Callable[[], T], wait: float | None = None) -> T:
    """The one way a database file is opened or attached: wait ``wait`` seconds (LOCK_WAIT by
    default) for another process's lock, then WorkspaceBusy; a damaged or unreadable file is
    the user's error."""
    wait = LOCK_WAIT if wait is None else wait
    deadline, pause = time.monotonic() + wait, 0.02
    while True:
        try:
            opened = open_it()
            break
        except duckdb.Error as exc:
            if "Could not set lock" in str(exc):
                if time.monotonic() >= deadline:
                    raise WorkspaceBusy(database, wait) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.25)
                continue
            translated = storage_error(exc, database, opening=True)
            if translated is None:
                raise
            raise translated from exc
    if str(database) != ":memory:":
        _opened.pop(str(database), None)
        _opened[str(database)] = None
    return opened


class DuckDBEngine:
    """Events and analyses on DuckDB: ``duckdb://`` (in memory) or ``duckdb:///path/file.duckdb``."""

    def __init__(
        self,
        database: str | Path = ":memory:",
        *,
        read_only: bool = False,
        wait: float | None = None,
    ) -> None:
        self.database = str(database)
        self.raw = _open(database, lambda: duckdb.connect(self.database, read_only=read_only), wait)
        # One convention for naive times: UTC (see events.schema).
        self.raw.execute("SET TimeZone = 'UTC'")
        self._ibis: Backend | None = None
        self._attached = 0

    @classmethod
    def from_url(cls, url: str) -> DuckDBEngine:
        path = url.removeprefix("duckdb://")
        if path in ("", "/", ":memory:"):
            return cls()
        return cls(Path(path))

    @property
    def con(self) -> Backend:
        """The ibis backend over the same connection (lazy: ibis is slow to import)."""
        if self._ibis is None:
            import ibis

            self._ibis = ibis.duckdb.from_connection(self.raw)
        return self._ibis

    @staticmethod
    def is_write_conflict(exc: BaseException) -> bool:
        """A transaction lost to a concurrent one (a duplicate key, a conflicting write)."""
        return isinstance(exc, (duckdb.ConstraintException, duckdb.TransactionException))

    def execute(self, sql: str, params: Params = None) -> None:
        self.raw.execute(*inline(sql, params))

    def fetchall(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.raw.execute(*inline(sql, params)).fetchall()

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        return self.raw.execute(*inline(sql, params)).to_arrow_table()

    def fetchone(self, sql: str, params: Params = None) -> tuple[Any, ...]:
        row = self.raw.execute(*inline(sql, params)).fetchone()
        assert row is not None, sql
        return row

    def execute_with_progress(
        self, sql: str, params: Params = None, progress: ProgressFn | None = None
    ) -> None:
        """Run a long statement, reporting DuckDB's own progress; Ctrl-C interrupts the query."""
        if progress is None:
            self.execute(sql, params)
            return
        # DuckDB only tracks progress with its bar enabled (off by default outside its shell);
        # its own printing stays off, the caller draws.
        self.raw.execute("SET enable_progress_bar = true")
        self.raw.execute("SET enable_progress_bar_print = false")
        failure: list[BaseException] = []

        def work() -> None:
            try:
                self.raw.execute(*inline(sql, params))
            except BaseException as exc:  # handed to the calling thread below
                failure.append(exc)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                worker.join(0.1)
                done = self.raw.query_progress()
                if done >= 0:
                    progress(done)
        except BaseException:
            self.raw.interrupt()
            worker.join()
            raise
        if failure:
            raise failure[0]
        # A statement can end between two polls; its phase still finishes at 100%.
        progress(100.0)

    @contextmanager
    def arrow_view(self, name: str, data: Any) -> Iterator[None]:
        """An Arrow table or RecordBatchReader readable as ``name`` (a stream: read it once)."""
        self.raw.register(name, data)
        try:
            yield
        finally:
            self.raw.unregister(name)

    @contextmanager
    def transaction(self, outcome: str = "nothing was changed") -> Iterator[None]:
        """All or nothing: a failure (or a killed process) leaves the database as it was. A
        failure of the file itself (no room at commit, a damaged block) is the user's error,
        saying ``outcome``."""
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield
            self.raw.execute("COMMIT")
        except BaseException as exc:
            with suppress(duckdb.Error):  # a failed COMMIT has rolled back already
                self.raw.execute("ROLLBACK")
            translated = storage_error(exc, self.database, outcome)
            if translated is None or self.database == ":memory:":
                raise
            raise translated from exc

    def events(
        self,
        source: str | Path,
        *,
        mapping: ColumnMap | None = None,
        timezone: str = "UTC",
        delimiter: str | None = None,
    ) -> ir.Table:
        """Events in the canonical schema from a workspace, an events file or a table name."""
        from journeykit.engine import resolve_events

        return resolve_events(self, source, mapping=mapping, timezone=timezone, delimiter=delimiter)

    def attach_read_only(self, database: Path) -> str:
        """Attach another DuckDB file under a fresh alias and return the alias."""
        self._attached += 1
        alias = f"jk_ws_{self._attached}"
        attach = f"ATTACH {quote_literal(str(database))} AS {alias} (READ_ONLY)"
        _open(database, lambda: self.raw.execute(attach))
        return alias

    def has_table(self, database: str, name: str) -> bool:
        """A table or a view (a workspace's ``events`` is a view since schema 2)."""
        query = (
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = $db AND table_name = $name"
        )
        return bool(self.fetchone(query, {"db": database, "name": name})[0])

    def detach(self, alias: str) -> None:
        self.raw.execute(f"DETACH {alias}")

    def close(self) -> None:
        self.raw.close()


@dataclass(frozen=True)
class TableRead:
    """One table (or view) of a database read in full, or DuckDB's words on why it could not be."""

    name: str
    rows: int | None
    problem: str | None = None
    view: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "view": self.view, "rows": self.rows, "problem": self.problem}


def read_in_full(engine: DuckDBEngine) -> tuple[TableRead, ...]:
    """Read every value of every table, and bind every view, of the engine's own database.

    DuckDB checks a block's checksum whenever it loads the block (and the catalog's when it
    opens the file), so this meets every damaged block a query or an import could meet. It is
    one scan: about 0.1 s per 2M events (docs/benchmarks.md, "Checking a workspace").
    """
    here = "database_name = current_database() AND NOT temporary AND NOT internal"
    tables = engine.fetchall(
        f"SELECT schema_name, table_name, table_oid FROM duckdb_tables() WHERE {here} ORDER BY 2"
    )
    out = []
    for schema, name, oid in tables:
        columns = engine.fetchall(
            "SELECT column_name FROM duckdb_columns() WHERE table_oid = $oid ORDER BY column_index",
            {"oid": oid},
        )
        # hash() of every column makes DuckDB load and decode every block; count(*) alone
        # would be answered from the row-group headers.
        every = ", ".join(quote_ident(c) for (c,) in columns)
        select = f"SELECT count(*), bit_xor(hash({every})) FROM {quote_ident(schema)}."
        out.append(_read(engine, name, select))
    views = engine.fetchall(
        f"SELECT schema_name, view_name FROM duckdb_views() WHERE {here} ORDER BY 2"
    )
    for schema, name in views:
        out.append(
            _read(
                engine,
                name,
                f"SELECT count(*) FROM (SELECT * FROM {quote_ident(schema)}.",
                view=True,
            )
        )
    return tuple(out)


def _read(engine: DuckDBEngine, name: str, select: str, *, view: bool = False) -> TableRead:
    try:
        sql = select + quote_ident(name) + (" LIMIT 0)" if view else "")
        rows = engine.fetchone(sql)[0]
    except duckdb.Error as exc:
        return TableRead(name, None, str(exc).removeprefix("IO Error: "), view)
    return TableRead(name, None if view else int(rows), None, view)
