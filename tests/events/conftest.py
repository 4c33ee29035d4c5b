from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.workspace import Workspace, create_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return create_workspace(tmp_path / "ws", template="saas-trial")


def db_rows(ws: Workspace, sql: str) -> list[tuple[object, ...]]:
    from journeykit.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        return engine.fetchall(sql)
    finally:
        engine.close()


def snapshot(
    ws: Workspace, tables: tuple[str, ...] = ("events", "rejected", "imports")
) -> tuple[object, ...]:
    if not ws.database.exists():
        return ()
    return tuple(tuple(sorted(db_rows(ws, f"SELECT * FROM {t}"), key=repr)) for t in tables)
