"""The workspace's storage layout: ``events`` as readers see it, and older workspaces upgraded."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.engine.duckdb import DuckDBEngine
from journeykit.engine.workspace import import_files
from journeykit.errors import WorkspaceError
from journeykit.events.importer import SCHEMA_VERSION, ImportOptions, schema_version
from journeykit.workspace import Workspace

from .conftest import db_rows

HEADER = "customer_id,event,timestamp,value,plan\n"
# The layout journeykit wrote before schema 2 (copied from that version): every event row held
# its source and import id as text, and there was no journeykit_meta table.
V1_TABLES = (
    "CREATE TABLE events (customer_id VARCHAR NOT NULL, event VARCHAR NOT NULL, "
    "timestamp TIMESTAMP NOT NULL, value DOUBLE, properties VARCHAR NOT NULL, "
    "source VARCHAR NOT NULL, source_row BIGINT NOT NULL, import_id VARCHAR NOT NULL)",
    "CREATE TABLE rejected (import_id VARCHAR NOT NULL, source VARCHAR NOT NULL, "
    "line BIGINT, field VARCHAR, reason VARCHAR NOT NULL, raw VARCHAR)",
    "CREATE TABLE imports (import_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, "
    "sha256 VARCHAR NOT NULL, options VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, "
    "read BIGINT, loaded BIGINT, duplicates BIGINT, rejected BIGINT, rejected_file VARCHAR, "
    "replaced_by VARCHAR)",
)
ALL_COLUMNS = "customer_id, event, timestamp, value, properties, source, source_row, import_id"


def run(ws: Workspace, *sqls: str) -> None:
    engine = DuckDBEngine(ws.database)
    try:
        for sql in sqls:
            engine.execute(sql)
    finally:
        engine.close()


def v1_workspace(ws: Workspace, tmp_path: Path) -> Path:
    """Two imports of schema 1, written as that version wrote them; returns one source file."""
    old = tmp_path / "old.csv"
    old.write_text(HEADER + "a,open,2024-01-01,,x\nb,open,2024-01-02,2.5,y\n")
    run(
        ws,
        *V1_TABLES,
        "INSERT INTO imports VALUES ('aaaaaaaaaaaa', '/data/first.csv', 'f1', '{}', "
        "'2024-05-01 10:00:00', 1, 1, 0, 0, NULL, NULL)",
        f"INSERT INTO imports VALUES ('bbbbbbbbbbbb', '{old}', 'f2', '{{}}', "
        "'2024-05-02 10:00:00', 3, 2, 0, 1, NULL, NULL)",
        "INSERT INTO events VALUES ('z', 'signup', '2024-01-01', NULL, '{}', "
        "'/data/first.csv', 2, 'aaaaaaaaaaaa')",
        "INSERT INTO events VALUES ('a', 'open', '2024-01-01', NULL, '{\"plan\":\"x\"}', "
        f"'{old}', 2, 'bbbbbbbbbbbb'), ('b', 'open', '2024-01-02', 2.5, '{{\"plan\":\"y\"}}', "
        f"'{old}', 3, 'bbbbbbbbbbbb')",
    )
    return old


def test_events_view_has_every_column_with_each_rows_import(ws: Workspace, tmp_path: Path) -> None:
    first, second = tmp_path / "one.csv", tmp_path / "two.csv"
    first.write_text(HEADER + "a,open,2024-01-01,,x\n")
    second.write_text(HEADER + "b,buy,2024-01-02,3,y\nc,buy,2024-01-03,,\n")
    (r1,) = import_files(ws, [first])
    (r2,) = import_files(ws, [second])
    rows = db_rows(ws, f"SELECT {ALL_COLUMNS} FROM events ORDER BY customer_id")
    assert [(r[0], r[5], r[6], r[7]) for r in rows] == [
        ("a", str(first.resolve()), 2, r1.import_id),
        ("b", str(second.resolve()), 2, r2.import_id),
        ("c", str(second.resolve()), 3, r2.import_id),
    ]
    assert rows[1][3] == 3.0 and rows[1][4] == '{"plan":"y"}'


def test_a_schema_1_workspace_is_read_as_it_is_and_upgraded_by_the_next_import(
    ws: Workspace, tmp_path: Path
) -> None:
    old = v1_workspace(ws, tmp_path)
    before = db_rows(ws, f"SELECT {ALL_COLUMNS} FROM events ORDER BY customer_id")
    # Readers take the old table as it is.
    engine = DuckDBEngine()
    assert engine.events(ws.root).count().execute() == 3
    engine.close()

    new = tmp_path / "new.csv"
    new.write_text(HEADER + "a,open,2024-01-01,,x\nc,open,2024-01-03,,\n")
    (report,) = import_files(ws, [new])
    assert schema_version_of(ws) == SCHEMA_VERSION
    after = db_rows(ws, f"SELECT {ALL_COLUMNS} FROM events ORDER BY customer_id, import_id")
    # The old rows keep their source, line and import id; "a" was already stored.
    assert (report.loaded, report.duplicates) == (1, 1)
    assert [r for r in after if r[0] != "c"] == before
    assert [(r[0], r[5], r[6], r[7]) for r in after if r[0] == "c"] == [
        ("c", str(new.resolve()), 3, report.import_id)
    ]
    # The history kept its rows; replacing an upgraded import removes its events.
    (again,) = import_files(ws, [old], ImportOptions(replace=True))
    assert db_rows(ws, "SELECT import_id, replaced_by FROM imports ORDER BY imported_at")[:2] == [
        ("aaaaaaaaaaaa", None),
        ("bbbbbbbbbbbb", again.import_id),
    ]
    counts = dict(db_rows(ws, "SELECT import_id, count(*) FROM events GROUP BY 1"))
    assert counts == {"aaaaaaaaaaaa": 1, report.import_id: 1, again.import_id: 2}


def test_a_workspace_from_a_newer_journeykit_is_refused_clearly(
    ws: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "e.csv"
    path.write_text(HEADER + "a,open,2024-01-01,,x\n")
    import_files(ws, [path])
    run(ws, "UPDATE journeykit_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(WorkspaceError, match=r"schema 99 was written by a newer journeykit"):
        import_files(ws, [path])


def schema_version_of(ws: Workspace) -> int:
    engine = DuckDBEngine(ws.database, read_only=True)
    try:
        return schema_version(engine)
    finally:
        engine.close()
