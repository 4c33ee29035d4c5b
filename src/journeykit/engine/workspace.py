"""The workspace's database: opened here, the only place that knows it is a DuckDB file.

``events.importer`` holds what an import does; this opens the file it does it in, refuses a
damaged one, and checks one on request (``journeykit doctor``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journeykit.engine.duckdb import DuckDBEngine, TableRead, read_in_full, storage_errors
from journeykit.errors import WorkspaceDamaged, WorkspaceStorageError
from journeykit.events.importer import ImportOptions, ImportReport, import_into, prepare_schema
from journeykit.events.reader import Progress
from journeykit.workspace import Workspace


def import_files(
    ws: Workspace,
    paths: Sequence[Path],
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Import event files into the workspace in one transaction: all of them or nothing.

    A damaged database is refused before anything is written: appending to it would succeed
    whenever the import happens not to read the damaged blocks, and hide the damage.
    """
    with storage_errors(ws.database):
        engine = DuckDBEngine(ws.database)
        try:
            damaged = [t for t in read_in_full(engine) if t.problem]
        except BaseException:
            engine.close()
            raise
        if damaged:
            engine.close()
            problem = f"table {damaged[0].name}: {damaged[0].problem}"
            raise WorkspaceDamaged(ws.database, problem, "nothing was imported")
        return import_into(engine, ws, paths, options, progress=progress)


def ensure_tables(ws: Workspace) -> None:
    """The workspace's tables, created empty when nothing was imported yet."""
    with storage_errors(ws.database):
        engine = DuckDBEngine(ws.database)
        try:
            prepare_schema(engine)
        finally:
            engine.close()


@dataclass(frozen=True)
class WorkspaceCheck:
    """What reading the whole workspace database found; ``problem``: it could not be opened."""

    database: Path
    exists: bool
    tables: tuple[TableRead, ...] = ()
    problem: str | None = None
    sources: tuple[str, ...] = ()  # the current imports' files, to rebuild from

    @property
    def damaged(self) -> bool:
        return self.problem is not None or any(t.problem for t in self.tables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "database": str(self.database),
            "exists": self.exists,
            "damaged": self.damaged,
            "problem": self.problem,
            "tables": [t.to_dict() for t in self.tables],
            "sources": list(self.sources),
        }


def check_workspace(ws: Workspace) -> WorkspaceCheck:
    """Open the workspace database read-only and read every table in full (DuckDB verifies
    each block's checksum as it loads it); damage is reported, not raised."""
    if not ws.database.exists():
        return WorkspaceCheck(ws.database, exists=False)
    try:
        engine = DuckDBEngine(ws.database, read_only=True)
    except WorkspaceStorageError as exc:
        return WorkspaceCheck(ws.database, True, problem=exc.detail)
    try:
        tables = read_in_full(engine)
        sources: tuple[str, ...] = ()
        if any(t.name == "imports" and not t.problem for t in tables):
            rows = engine.fetchall(
                "SELECT DISTINCT source FROM imports WHERE replaced_by IS NULL ORDER BY 1"
            )
            sources = tuple(r[0] for r in rows)
        return WorkspaceCheck(ws.database, True, tables, sources=sources)
    finally:
        engine.close()
