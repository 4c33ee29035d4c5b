"""Events from a real MariaDB table (the mysql:// URL, ibis's mysql backend): import, a sync
that loads the added rows and replaces the changed ones, rejects with the row's key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from journeykit.engine.workspace import import_source, sync_sources
from journeykit.events.dbsource import DatabaseSource
from journeykit.events.sources import ColumnMap
from journeykit.workspace import Workspace

from .cases import workspace_rows


def execute(url: str, *sqls: str) -> None:
    import MySQLdb

    rest = url.removeprefix("mysql://root@")
    host_port, database = rest.split("/")
    host, port = host_port.split(":")
    con = MySQLdb.connect(host=host, port=int(port), user="root", database=database)
    try:
        cur = con.cursor()
        for sql in sqls:
            cur.execute(sql)
        con.commit()
    finally:
        con.close()


def content(ws: Workspace) -> list[tuple[Any, ...]]:
    return workspace_rows(
        ws, "SELECT source_key, customer_id, event, timestamp, value FROM events ORDER BY 1"
    )


def test_import_and_sync_from_mariadb(mariadb_url: str, ws: Workspace) -> None:
    execute(
        mariadb_url,
        "DROP TABLE IF EXISTS signups",
        "CREATE TABLE signups (id BIGINT PRIMARY KEY, who VARCHAR(40), what VARCHAR(40), "
        "at DATETIME(6), amount DECIMAL(8, 2), changed DATETIME(6), INDEX (changed))",
        "INSERT INTO signups VALUES (1, 'ana', 'signed_up', '2024-01-01 10:00:00', NULL, "
        "'2024-01-01 10:00:00'), (2, NULL, 'signed_up', '2024-01-02', NULL, '2024-01-02'), "
        "(3, 'ben', 'paid', '2024-01-03', 12.50, '2024-01-03')",
    )
    source = DatabaseSource("signups", mariadb_url, table="signups", cursor="changed",
                            mapping=ColumnMap(("who",), "what", "at", "amount"))  # fmt: skip
    report = import_source(ws, source)
    assert (report.read, report.loaded, report.rejected) == (3, 2, 1)
    assert report.cursor is not None and report.cursor.value == datetime(2024, 1, 3)
    assert workspace_rows(ws, "SELECT source_key, field, reason FROM rejected") == [
        ("2", "who", "missing customer id")
    ]
    execute(
        mariadb_url,
        "UPDATE signups SET amount = 15, changed = '2024-02-01' WHERE id = 3",
        "INSERT INTO signups VALUES (4, 'cy', 'signed_up', '2024-02-02', NULL, '2024-02-02')",
    )
    (again,) = sync_sources(ws)
    assert (again.loaded, again.replaced, again.unchanged, again.rejected) == (1, 1, 0, 0)
    assert content(ws) == [
        ("1", "ana", "signed_up", datetime(2024, 1, 1, 10), None),
        ("3", "ben", "paid", datetime(2024, 1, 3), 15.0),
        ("4", "cy", "signed_up", datetime(2024, 2, 2), None),
    ]


def test_a_table_in_another_database_and_its_primary_key(mariadb_url: str, ws: Workspace) -> None:
    execute(
        mariadb_url,
        "CREATE DATABASE IF NOT EXISTS crm",
        "DROP TABLE IF EXISTS crm.signups",
        "CREATE TABLE crm.signups (id BIGINT PRIMARY KEY, customer_id VARCHAR(40), "
        "event VARCHAR(40), timestamp DATETIME(6))",
        "INSERT INTO crm.signups VALUES (1, 'ana', 'signed_up', '2024-01-01 10:00:00'), "
        "(2, 'ben', 'signed_up', '2024-01-02')",
    )
    report = import_source(ws, DatabaseSource("crm", mariadb_url, table="crm.signups"))
    assert (report.loaded, report.rejected) == (2, 0)
    ((spec,),) = workspace_rows(ws, "SELECT spec FROM sources")
    assert DatabaseSource.from_json(spec).cursor == "id"  # the primary key, found in crm
    execute(mariadb_url, "INSERT INTO crm.signups VALUES (3, 'cy', 'signed_up', '2024-01-03')")
    (again,) = sync_sources(ws)
    assert (again.loaded, again.unchanged) == (1, 1)
