"""The embedded DuckDB engine: the default, in memory or in a workspace's database file.

This module (with ``engine/__init__.py``) is the only place that imports duckdb; the events code
talks to it through :class:`journeykit.engine.SqlRunner`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb

from journeykit.events.sqltext import quote_literal

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from ibis.backends.duckdb import Backend

    from journeykit.events.sources import ColumnMap

Params = Mapping[str, Any] | None
ProgressFn = Callable[[float], None]
T = TypeVar("T")
# How long opening a workspace's database waits for another process to let go of it (DuckDB
# allows one writer, or readers, per file): the web app holds it only while computing, an
# import for its whole run. Past this, WorkspaceBusy says so instead of a lock traceback.
LOCK_WAIT = 10.0


def _wait_for_lock(database: str | Path, open_it: Callable[[], T]) -> T:
    deadline, pause = time.monotonic() + LOCK_WAIT, 0.02
    while True:
        try:
            return open_it()
        except duckdb.IOException as exc:
            if "Could not set lock" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                from journeykit.errors import WorkspaceBusy

                raise WorkspaceBusy(database) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


class DuckDBEngine:
    """Events and analyses on DuckDB: ``duckdb://`` (in memory) or ``duckdb:///path/file.duckdb``."""

    def __init__(self, database: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.database = str(database)
        self.raw = _wait_for_lock(
            database, lambda: duckdb.connect(self.database, read_only=read_only)
        )
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

    @classmethod
    def open_waiting(
        cls, database: Path, *, read_only: bool = False, wait: float = 30.0
    ) -> DuckDBEngine:
        """Open a database file, waiting up to ``wait`` seconds while another process holds its
        lock (an import or another ``act``); then :class:`DatabaseBusyError`."""
        import time

        from journeykit.engine.errors import DatabaseBusyError

        deadline = time.monotonic() + wait
        while True:
            try:
                return cls(database, read_only=read_only)
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise
                if time.monotonic() >= deadline:
                    raise DatabaseBusyError(
                        f"{database} is in use by another process (an import or act) and stayed "
                        f"locked for {wait:g}s; nothing was changed, try again"
                    ) from None
                time.sleep(0.2)

    @staticmethod
    def is_write_conflict(exc: BaseException) -> bool:
        """A transaction lost to a concurrent one (a duplicate key, a conflicting write)."""
        return isinstance(exc, (duckdb.ConstraintException, duckdb.TransactionException))

    def execute(self, sql: str, params: Params = None) -> None:
        self.raw.execute(sql, params)

    def fetchall(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self.raw.execute(sql, params).fetchall()

    def fetchone(self, sql: str, params: Params = None) -> tuple[Any, ...]:
        row = self.raw.execute(sql, params).fetchone()
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
                self.raw.execute(sql, params)
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
    def transaction(self) -> Iterator[None]:
        """All or nothing: a failure (or a killed process) leaves the database as it was."""
        self.raw.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

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
        _wait_for_lock(database, lambda: self.raw.execute(attach))
        return alias

    def has_table(self, database: str, name: str) -> bool:
        """A table or a view (a workspace's ``events`` is a view since schema 2)."""
        found = self.raw.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_catalog = ? AND table_name = ?",
            [database, name],
        ).fetchone()
        return bool(found and found[0])

    def detach(self, alias: str) -> None:
        self.raw.execute(f"DETACH {alias}")

    def close(self) -> None:
        self.raw.close()
