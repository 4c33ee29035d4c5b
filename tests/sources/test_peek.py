"""`sync` asks the light driver first whether anything is new (engine.peek): it may only make a
sync faster, never different.

Each case changes a source after its import (or not), then syncs two copies of the workspace:
one as a user runs it, one with the peek turned off (the full sync, the oracle). The reports and
everything the workspace keeps must be the same, and the peek must have answered exactly when
nothing was new.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import journeykit.engine.peek as peek
from journeykit.engine.workspace import import_source, sync_sources
from journeykit.events.dbsource import DatabaseSource
from journeykit.events.sources import ColumnMap
from journeykit.events.sync import SyncReport
from journeykit.workspace import Workspace, open_workspace
from tests.cli.test_startup import HEAVY, imported_by

from .cases import workspace_rows

pytest.importorskip("ibis.backends.sqlite", reason="the sqlite extra is not installed")

KEPT = (
    "SELECT source_key, customer_id, event, timestamp, value, properties FROM events",
    "SELECT source_key, field, reason, raw FROM rejected",
    "SELECT name, spec, cursor FROM sources",
)
PEEK = peek.nothing_new
SYNCED = "SELECT name, synced_at FROM sources ORDER BY name"


def kept(ws: Workspace) -> list[list[tuple[Any, ...]]]:
    return [sorted(workspace_rows(ws, sql), key=repr) for sql in KEPT]


def plain(report: SyncReport) -> dict[str, Any]:
    found = report.to_dict()
    for varying in ("import_id", "rejected_file"):  # new ids on every import
        found[varying] = found[varying] is not None
    return found


def sync_both(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Sync ``ws`` and a copy of it with the peek turned off; both end alike. Did it answer?"""
    oracle_root = ws.root.with_name(ws.root.name + "-full")
    shutil.copytree(ws.root, oracle_root)
    synced = workspace_rows(ws, SYNCED)
    answers: list[object] = []

    def spied(*args: Any) -> Any:
        answers.append(PEEK(*args))
        return answers[-1]

    monkeypatch.setattr(peek, "nothing_new", spied)
    got = sync_sources(ws)
    monkeypatch.setattr(peek, "nothing_new", lambda *args: None)
    oracle_ws = open_workspace(oracle_root)
    expected = sync_sources(oracle_ws)
    monkeypatch.setattr(peek, "nothing_new", PEEK)
    assert [plain(r) for r in got] == [plain(r) for r in expected]
    assert kept(ws) == kept(oracle_ws)
    # When a source was last synced (its cursor moved) changes in both or in neither.
    assert (workspace_rows(ws, SYNCED) == synced) == (workspace_rows(oracle_ws, SYNCED) == synced)
    shutil.rmtree(oracle_root)
    return answers[-1] is not None


# --- PostgreSQL: every column type the peek reads, a timestamp cursor with ties --------------

PG_TABLE = (
    "CREATE TABLE shop (id bigint PRIMARY KEY, who text, what varchar(20), at timestamptz, "
    "amount numeric(8, 2), props jsonb, doc json, ratio real, share double precision, "
    "ok boolean, day date, code uuid, n int, small smallint, tag char(3), changed timestamp)"
)
PG_ROWS = [
    # The last three share the largest `changed`; one of them is refused (no customer).
    (1, "ana", "order", "2024-01-01 10:00+00", "12.30", '{"a": 1}', '{"b":  [1, 2]}', 0.1,
     1 / 3, True, "2024-01-01", "6f1c1b53-1e53-4d4c-9a5e-111111111111", 1, 2, "abc",
     "2024-01-01 10:00"),
    (2, "ben", "order", "2024-01-02 11:00+00", None, None, None, None, None, None, None, None,
     None, None, None, "2024-01-02 11:00"),
    (3, "cy", "refund", "2024-01-03 12:00+02", "-5.00", '{"c": "x"}', "[]", 2.5, 1e300, False,
     "2024-01-03", "6f1c1b53-1e53-4d4c-9a5e-333333333333", 3, -4, "x", "2024-01-03 12:00"),
    (4, "", "order", "2024-01-03 13:00+00", "1.00", "{}", "{}", 0.0, -0.0, True, "2024-01-03",
     None, 4, 5, "d", "2024-01-03 12:00"),
    (5, "dee", "order", "2024-01-03 14:00+00", "99999.99", '{"d": null}', "null", 3.25,
     0.1 + 0.2, True, "2024-01-03", None, 5, 6, "e", "2024-01-03 12:00"),
]  # fmt: skip
PG_CASES: dict[str, tuple[list[str], bool]] = {
    "nothing new": ([], True),
    "a row older than the cursor changed unseen": (["UPDATE shop SET what = 'x' WHERE id = 1"], True),
    "a row added at the cursor's value": (
        ["INSERT INTO shop (id, who, what, at, changed) "
         "VALUES (6, 'eve', 'order', '2024-01-04', '2024-01-03 12:00')"], False),
    "a row at the cursor changed in place": (
        ["UPDATE shop SET amount = 12.31 WHERE id = 5"], False),
    "a json property at the cursor changed": (
        ["UPDATE shop SET props = '{\"d\": 0}' WHERE id = 5"], False),
    "a refused row at the cursor fixed": (["UPDATE shop SET who = 'fay' WHERE id = 4"], False),
    "a row added past the cursor": (
        ["INSERT INTO shop (id, who, what, at, changed) "
         "VALUES (7, 'gus', 'order', '2024-01-05', '2024-01-05 00:00')"], False),
    "a row at the cursor deleted": (["DELETE FROM shop WHERE id = 3"], False),
    "a column added": (["ALTER TABLE shop ADD COLUMN extra int DEFAULT 7"], False),
    "a column's type changed": (["ALTER TABLE shop ALTER COLUMN n TYPE numeric"], False),
}  # fmt: skip
PG_MAPPING = ColumnMap(customer_id=("who",), event="what", timestamp="at", value="amount")


@pytest.mark.parametrize("case", list(PG_CASES))
def test_postgres_sync_is_the_full_sync_and_peeks_only_when_nothing_is_new(
    case: str, pg: Any, pg_url: str, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.execute(PG_TABLE)
    pg.execute("CREATE INDEX ON shop (changed)")
    with pg.cursor() as cur:
        cur.executemany(f"INSERT INTO shop VALUES ({', '.join(['%s'] * 16)})", PG_ROWS)
    source = DatabaseSource("shop", pg_url, table="shop", cursor="changed", mapping=PG_MAPPING)
    first = import_source(ws, source)
    assert (first.loaded, first.rejected) == (4, 1)
    changes, quiet = PG_CASES[case]
    for sql in changes:
        pg.execute(sql)
    assert sync_both(ws, monkeypatch) is quiet


def test_a_query_source_with_a_percent_sign_peeks(
    pg: Any, pg_url: str, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.execute("CREATE TABLE log (id bigint PRIMARY KEY, who text, what text, at timestamp)")
    pg.execute("INSERT INTO log VALUES (1, 'ana', 'visit', '2024-01-01'), "
               "(2, 'ben', 'visit%', '2024-01-02')")  # fmt: skip
    query = "SELECT * FROM log WHERE what LIKE 'visit%'"
    mapping = ColumnMap(customer_id=("who",), event="what", timestamp="at")
    import_source(ws, DatabaseSource("log", pg_url, query=query, cursor="id", mapping=mapping))
    assert sync_both(ws, monkeypatch)
    pg.execute("INSERT INTO log VALUES (3, 'cy', 'visit', '2024-01-03')")
    assert not sync_both(ws, monkeypatch)


# --- MariaDB (the mysql:// URL): its types, a DATETIME cursor with ties ---------------------

MARIADB_TABLE = (
    "CREATE TABLE shop (id BIGINT PRIMARY KEY, who VARCHAR(40), what TEXT, at DATETIME(6), "
    "ts TIMESTAMP(6) NULL, amount DECIMAL(8, 2), f FLOAT, d DOUBLE, b TINYINT(1), "
    "u INT UNSIGNED, day DATE, j JSON, c CHAR(3), changed DATETIME(6), INDEX (changed))"
)
MARIADB_ROWS = (
    "INSERT INTO shop VALUES "
    "(1, 'ana', 'order', '2024-01-01 10:00:00.5', '2024-01-01 10:00:00', 12.30, 0.1, 0.1, 1, "
    "4, '2024-01-01', '{\"a\": 1}', 'ab', '2024-01-01 10:00'), "
    "(2, 'ben', 'order', '2024-01-02 11:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, '2024-01-03 12:00'), "
    "(3, NULL, 'order', '2024-01-03 13:00', '2024-01-03 13:00', -5.00, 2.5, 1e300, 0, 5, "
    "'2024-01-03', '[]', 'x', '2024-01-03 12:00')"
)
MARIADB_CASES: dict[str, tuple[str | None, bool]] = {
    "nothing new": (None, True),
    "a row older than the cursor changed unseen": ("UPDATE shop SET what = 'x' WHERE id = 1", True),
    "a row added at the cursor's value": (
        "INSERT INTO shop (id, who, what, at, changed) "
        "VALUES (6, 'eve', 'order', '2024-01-04', '2024-01-03 12:00')", False),
    "a row at the cursor changed in place": ("UPDATE shop SET amount = 1.01 WHERE id = 2", False),
    "a refused row at the cursor fixed": ("UPDATE shop SET who = 'fay' WHERE id = 3", False),
    "a row added past the cursor": (
        "INSERT INTO shop (id, who, what, at, changed) "
        "VALUES (7, 'gus', 'order', '2024-01-05', '2024-01-05')", False),
    "a column added": ("ALTER TABLE shop ADD COLUMN extra INT DEFAULT 7", False),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MARIADB_CASES))
def test_mariadb_sync_is_the_full_sync_and_peeks_only_when_nothing_is_new(
    case: str, mariadb_url: str, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from .test_mariadb import execute

    execute(mariadb_url, "DROP TABLE IF EXISTS shop", MARIADB_TABLE, MARIADB_ROWS)
    source = DatabaseSource("shop", mariadb_url, table="shop", cursor="changed",
                            mapping=PG_MAPPING)  # fmt: skip
    first = import_source(ws, source)
    assert (first.loaded, first.rejected) == (2, 1)
    change, quiet = MARIADB_CASES[case]
    if change is not None:
        execute(mariadb_url, change)
    assert sync_both(ws, monkeypatch) is quiet


# --- SQLite: an integer primary key cursor, and a text cursor with ties ----------------------


def sqlite_shop(path: Path) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, email TEXT, kind TEXT, "
                    "placed_at TEXT, total REAL, day TEXT)")  # fmt: skip
        con.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            [(1, "ana@x", "order", "2024-01-02 10:00:00", 30.0, "d1"),
             (2, "ben@x", "order", "2024-01-03 11:00:00", 0.1, "d2"),
             (3, "", "order", "2024-01-04 09:00:00", None, "d2")],
        )  # fmt: skip


def sqlite_imported(folder: Path, ws: Workspace) -> Path:
    """The shop's SQLite database, imported into ``ws`` by its primary key."""
    db = folder / "shop.db"
    sqlite_shop(db)
    mapping = ColumnMap(customer_id=("email",), event="kind", timestamp="placed_at")
    import_source(ws, DatabaseSource("orders", f"sqlite://{db}", table="orders", mapping=mapping))
    return db


SQLITE_CASES: dict[str, tuple[str | None, bool]] = {
    "nothing new": (None, True),
    "a row at the cursor changed in place": ("UPDATE orders SET total = 0.2 WHERE order_id = 3", False),
    "a row added past the cursor": (
        "INSERT INTO orders VALUES (4, 'cy@x', 'order', '2024-01-05', 8, 'd3')", False),
    "a row added at the cursor's value": (
        "INSERT INTO orders VALUES (5, 'dee@x', 'order', '2024-01-05', 8, 'd2')", False),
    "a column added": ("ALTER TABLE orders ADD COLUMN extra INTEGER DEFAULT 1", False),
}  # fmt: skip


@pytest.mark.parametrize("cursor", ["order_id", "day"])
@pytest.mark.parametrize("case", list(SQLITE_CASES))
def test_sqlite_sync_is_the_full_sync_and_peeks_only_when_nothing_is_new(
    case: str, cursor: str, tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "shop.db"
    sqlite_shop(db)
    mapping = ColumnMap(customer_id=("email",), event="kind", timestamp="placed_at",
                        value="total")  # fmt: skip
    source = DatabaseSource("orders", f"sqlite://{db}", table="orders", cursor=cursor,
                            key="order_id", mapping=mapping)  # fmt: skip
    import_source(ws, source)
    change, quiet = SQLITE_CASES[case]
    if change is not None:
        with sqlite3.connect(db) as con:
            con.execute(change)
    assert sync_both(ws, monkeypatch) is quiet


def test_a_source_in_another_timezone_peeks(
    tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "shop.db"
    sqlite_shop(db)
    mapping = ColumnMap(customer_id=("email",), event="kind", timestamp="placed_at")
    source = DatabaseSource("orders", f"sqlite://{db}", table="orders", mapping=mapping,
                            timezone="Europe/Paris")  # fmt: skip
    import_source(ws, source)
    assert sync_both(ws, monkeypatch)
    assert imported_by("sync", "--workspace", str(ws.root)) & set(HEAVY) == set()
    with sqlite3.connect(db) as con:
        con.execute("UPDATE orders SET placed_at = '2024-01-04 09:00:01' WHERE order_id = 3")
    assert not sync_both(ws, monkeypatch)


def test_a_workspace_synced_before_the_tail_was_kept_records_it_once(
    tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite_imported(tmp_path, ws)
    from journeykit.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(ws.database)
    engine.execute("UPDATE sources SET cursor = json_object('type', 'int64', 'value', 3)")
    engine.close()
    ((synced_at,),) = workspace_rows(ws, "SELECT synced_at FROM sources")
    assert not sync_both(ws, monkeypatch)  # no tail: the full sync, which records it
    assert sync_both(ws, monkeypatch)
    assert workspace_rows(ws, "SELECT synced_at FROM sources") == [(synced_at,)]


def test_an_unreachable_source_is_the_full_syncs_error(
    tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = sqlite_imported(tmp_path, ws)
    db.unlink()
    from journeykit.events.dbsource import SourceError

    with pytest.raises(SourceError, match="no database file"):
        sync_sources(ws)
    assert not db.exists()  # the peek opens it read-only: it creates nothing


# --- Sources declared in journeykit.toml, their key and cursor left to the primary key ------


def declare(ws: Workspace, text: str) -> None:
    settings = ws.root / "journeykit.toml"
    settings.write_text(settings.read_text() + text)


def test_a_declared_source_peeks_while_its_primary_key_is_the_registered_one(
    pg: Any, pg_url: str, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.execute("CREATE TABLE log (id bigint PRIMARY KEY, customer_id text, event text, "
               "timestamp timestamp)")  # fmt: skip
    pg.execute("INSERT INTO log VALUES (1, 'ana', 'visit', '2024-01-01'), "
               "(2, 'ben', 'visit', '2024-01-02')")  # fmt: skip
    monkeypatch.setenv("JK_TEST_PG", pg_url)
    declare(ws, '\n[sources.app]\nurl_env = "JK_TEST_PG"\ntable = "log"\n')
    (first,) = sync_sources(ws)  # registers it, key and cursor `id`
    assert (first.loaded, first.registered) == (2, True)
    assert sync_both(ws, monkeypatch)
    pg.execute("INSERT INTO log VALUES (3, 'cy', 'visit', '2024-01-03')")
    assert not sync_both(ws, monkeypatch)
    assert sync_both(ws, monkeypatch)


def test_a_declared_source_whose_primary_key_changed_is_the_full_syncs_error(
    tmp_path: Path, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "shop.db"
    sqlite_shop(db)
    declare(ws, f'\n[sources.orders]\nurl = "sqlite://{db}"\ntable = "orders"\n'
                'customer_id = "email"\nevent = "kind"\ntimestamp = "placed_at"\n')  # fmt: skip
    sync_sources(ws)
    assert sync_both(ws, monkeypatch)
    with sqlite3.connect(db) as con:  # the same rows and columns, now keyed by the e-mail
        con.execute("ALTER TABLE orders RENAME TO old")
        con.execute("CREATE TABLE orders (order_id INTEGER, email TEXT PRIMARY KEY, kind TEXT, "
                    "placed_at TEXT, total REAL, day TEXT)")  # fmt: skip
        con.execute("INSERT INTO orders SELECT * FROM old")
        con.execute("DROP TABLE old")
    from journeykit.events.dbsource import SourceError

    with pytest.raises(SourceError, match="has no integer primary key to follow"):
        sync_sources(ws)


# --- As a user runs it: a fresh `journeykit sync` that finds nothing imports no ibis ----------


def test_a_sync_with_nothing_new_imports_nothing_heavy(
    pg: Any, pg_url: str, tmp_path: Path, ws: Workspace
) -> None:
    pg.execute("CREATE TABLE log (id bigint PRIMARY KEY, who text, what text, at timestamptz, "
               "amount numeric, props jsonb)")  # fmt: skip
    pg.execute("INSERT INTO log VALUES (1, 'ana', 'visit', '2024-01-01', 1.5, '{}')")
    mapping = ColumnMap(customer_id=("who",), event="what", timestamp="at", value="amount")
    import_source(ws, DatabaseSource("log", pg_url, table="log", mapping=mapping))
    sqlite_imported(tmp_path, ws)
    for names in (["log"], ["orders"], []):
        assert imported_by("sync", "--workspace", str(ws.root), *names) & set(HEAVY) == set()
    pg.execute("INSERT INTO log VALUES (2, 'ben', 'visit', '2024-01-02', 2, '{}')")
    assert "ibis" in imported_by("sync", "--workspace", str(ws.root))  # the full sync
    assert workspace_rows(ws, "SELECT count(*) FROM events") == [(4,)]


def test_a_mariadb_sync_with_nothing_new_imports_nothing_heavy(
    mariadb_url: str, ws: Workspace
) -> None:
    from .test_mariadb import execute

    execute(mariadb_url, "DROP TABLE IF EXISTS shop", MARIADB_TABLE, MARIADB_ROWS)
    import_source(ws, DatabaseSource("shop", mariadb_url, table="shop", cursor="changed",
                                     mapping=PG_MAPPING))  # fmt: skip
    assert imported_by("sync", "--workspace", str(ws.root)) & set(HEAVY) == set()
