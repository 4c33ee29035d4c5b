"""How a database row's key is stored: an integer key as an integer (``source_int``), any other
as text (``source_key``); readers see one text ``source_key`` either way, and a workspace that
stored integer keys as text (schema 3) syncs on without duplicating or losing a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.engine.workspace import import_source, sync_sources
from journeykit.events.dbsource import DatabaseSource
from journeykit.events.importer import SCHEMA_VERSION, schema_version
from journeykit.events.sources import ColumnMap
from journeykit.workspace import Workspace

from .cases import workspace_rows

pytest.importorskip("ibis.backends.sqlite", reason="the sqlite extra is not installed")

MAPPING = ColumnMap(customer_id=("email",), event="kind", timestamp="placed_at", value="total")
ROWS = [
    (1, "A-1", "ana@x", "order", "2024-01-02 10:00:00", 30.0),
    (2, "B-2", "ben@x", "order", "2024-01-03 11:00:00", 0.5),
    (3, "C-3", "cy@x", "refund", "2024-01-04 09:00:00", None),
]


def shop(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, code TEXT UNIQUE, "
                    "email TEXT, kind TEXT, placed_at TEXT, total REAL)")  # fmt: skip
        con.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", ROWS)


def stored(ws: Workspace) -> list[tuple[object, ...]]:
    return workspace_rows(
        ws, "SELECT source_key, source_int, customer_id FROM event_rows ORDER BY customer_id"
    )


def test_an_integer_key_is_stored_as_an_integer_and_read_as_text(
    tmp_path: Path, ws: Workspace
) -> None:
    shop(tmp_path / "shop.db")
    url = f"sqlite://{tmp_path / 'shop.db'}"
    import_source(ws, DatabaseSource("by_id", url, table="orders", mapping=MAPPING))
    assert stored(ws) == [(None, 1, "ana@x"), (None, 2, "ben@x"), (None, 3, "cy@x")]
    import_source(ws, DatabaseSource("by_code", url, table="orders", mapping=MAPPING,
                                     cursor="order_id", key="code"))  # fmt: skip
    assert [r for r in stored(ws) if r[0] is not None] == [
        ("A-1", None, "ana@x"), ("B-2", None, "ben@x"), ("C-3", None, "cy@x")
    ]  # fmt: skip
    seen = workspace_rows(ws, "SELECT source_key, customer_id FROM events ORDER BY 1")
    assert seen == [("1", "ana@x"), ("2", "ben@x"), ("3", "cy@x"),
                    ("A-1", "ana@x"), ("B-2", "ben@x"), ("C-3", "cy@x")]  # fmt: skip


def as_schema_3(ws: Workspace) -> None:
    """Rewrite the workspace as schema 3 wrote it: integer keys as text, no source_int."""
    engine = DuckDBEngine(ws.database)
    try:
        engine.execute(
            "UPDATE event_rows SET source_key = CAST(source_int AS VARCHAR), source_int = NULL "
            "WHERE source_int IS NOT NULL"
        )
        engine.execute("DROP VIEW events")
        engine.execute("ALTER TABLE event_rows DROP COLUMN source_int")
        engine.execute("CREATE VIEW events AS SELECT * FROM event_rows")
        engine.execute("UPDATE journeykit_meta SET value = '3' WHERE key = 'schema_version'")
    finally:
        engine.close()


def test_a_schema_3_workspace_syncs_on_with_its_text_keys(tmp_path: Path, ws: Workspace) -> None:
    db = tmp_path / "shop.db"
    shop(db)
    source = DatabaseSource("orders", f"sqlite://{db}", table="orders", mapping=MAPPING)
    import_source(ws, source)
    as_schema_3(ws)
    with sqlite3.connect(db) as con:  # the row at the cursor updated, one added
        con.execute("UPDATE orders SET total = 2.0 WHERE order_id = 3")
        con.execute("INSERT INTO orders VALUES (4, 'D-4', 'dee@x', 'order', '2024-01-05', 8)")
    (report,) = sync_sources(ws)
    assert (report.loaded, report.replaced) == (1, 1)
    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        assert schema_version(engine) == SCHEMA_VERSION
    finally:
        engine.close()
    # The replaced row and the new one are stored as integers; the untouched ones as they were.
    assert stored(ws) == [
        ("1", None, "ana@x"), ("2", None, "ben@x"), (None, 3, "cy@x"), (None, 4, "dee@x")
    ]  # fmt: skip
    rows = workspace_rows(ws, "SELECT source_key, value FROM events ORDER BY 1")
    assert rows == [("1", 30.0), ("2", 0.5), ("3", 2.0), ("4", 8.0)]
    # A row stored as an integer is found again by its key when it changes.
    with sqlite3.connect(db) as con:
        con.execute("UPDATE orders SET total = 9.0 WHERE order_id = 4")
    (report,) = sync_sources(ws)
    assert (report.loaded, report.replaced) == (0, 1)
    rows = workspace_rows(ws, "SELECT source_key, value FROM events ORDER BY 1")
    assert rows == [("1", 30.0), ("2", 0.5), ("3", 2.0), ("4", 9.0)]
