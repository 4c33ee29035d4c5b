"""The workspace's database: opened here, the only place that knows it is a DuckDB file.

``events.importer`` holds what an import does; this opens the file it does it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from journeykit.engine.duckdb import DuckDBEngine
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
    """Import event files into the workspace in one transaction: all of them or nothing."""
    return import_into(DuckDBEngine(ws.database), ws, paths, options, progress=progress)


def ensure_tables(ws: Workspace) -> None:
    """The workspace's tables, created empty when nothing was imported yet."""
    engine = DuckDBEngine(ws.database)
    try:
        prepare_schema(engine)
    finally:
        engine.close()
