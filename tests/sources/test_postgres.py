"""Events from a real PostgreSQL table: import, sync (only what is new, each row once), rejects
with the row's key, and a killed sync that changes nothing."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from journeykit.engine.workspace import import_source, sync_sources
from journeykit.events.dbsource import DatabaseSource, SourceError
from journeykit.events.sources import ColumnMap
from journeykit.workspace import Workspace
from tests.events.conftest import kill_when_paused

from .cases import create_events_table, simulated, snapshot, workspace_rows

CONTENT = "customer_id, event, timestamp, value, properties"
PG_CONTENT = 'customer_id, event, "timestamp", value, properties'


def pg_content(pg: Any, table: str) -> list[tuple[Any, ...]]:
    rows = pg.execute(f'SELECT id::text, {PG_CONTENT} FROM "{table}"').fetchall()
    return sorted(rows, key=repr)


def ws_content(ws: Workspace) -> list[tuple[Any, ...]]:
    return sorted(workspace_rows(ws, f"SELECT source_key, {CONTENT} FROM events"), key=repr)


def test_a_table_is_imported_whole_and_its_integer_primary_key_is_the_cursor(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    events = simulated(300)
    create_events_table(pg_url, "events", events)
    report = import_source(ws, DatabaseSource("events", pg_url, table="events"))
    assert (report.read, report.loaded, report.replaced, report.rejected) == (
        events.num_rows, events.num_rows, 0, 0,
    )  # fmt: skip
    assert report.registered and report.cursor is not None
    assert (report.cursor.type, report.cursor.value) == ("int64", events.num_rows)
    assert ws_content(ws) == pg_content(pg, "events")
    ((spec,),) = workspace_rows(ws, "SELECT spec FROM sources WHERE name = 'events'")
    assert DatabaseSource.from_json(spec).cursor == "id" == DatabaseSource.from_json(spec).key


def test_sync_with_nothing_new_changes_nothing(pg: Any, pg_url: str, ws: Workspace) -> None:
    create_events_table(pg_url, "events", simulated(100))
    import_source(ws, DatabaseSource("events", pg_url, table="events"))
    before = snapshot(ws)
    for _ in range(2):
        (report,) = sync_sources(ws)
        # The row at the cursor is read again (a row written later with the same cursor value
        # would not be missed) and recognised by its key.
        assert (report.read, report.loaded, report.replaced, report.unchanged) == (1, 0, 0, 1)
        assert report.import_id is None
        assert snapshot(ws) == before


def test_sync_loads_the_added_rows_and_replaces_the_updated_ones(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    events = simulated(1000)
    n = events.num_rows
    create_events_table(pg_url, "events", events, updated_at=True)
    source = DatabaseSource("events", pg_url, table="events", cursor="updated_at")
    first = import_source(ws, source)
    assert first.loaded == n
    later = datetime(2030, 1, 1)
    added, updated = n // 100, n // 1000  # 1% added, 0.1% updated
    pg.execute(
        'INSERT INTO events (id, customer_id, event, "timestamp", value, properties, updated_at) '
        "SELECT id + %s, customer_id || '-new', event, \"timestamp\", value, properties, %s "
        "FROM events WHERE id <= %s",
        (n, later, added),
    )
    pg.execute(
        "UPDATE events SET event = event || '_v2', value = coalesce(value, 0) + 1, "
        "updated_at = %s WHERE id %% 997 = 0 AND id <= %s",
        (later + timedelta(hours=1), 997 * updated),
    )
    (report,) = sync_sources(ws)
    # Rows at the old cursor value are read again and found unchanged.
    at_boundary = pg.execute(
        'SELECT count(*) FROM events WHERE updated_at = (SELECT max("timestamp") FROM events '
        "WHERE updated_at < %s)",
        (later,),
    ).fetchone()[0]
    assert (report.loaded, report.replaced, report.rejected) == (added, updated, 0)
    assert report.unchanged == at_boundary
    assert report.read == added + updated + at_boundary
    assert ws_content(ws) == pg_content(pg, "events")  # nothing duplicated, nothing lost
    assert workspace_rows(ws, "SELECT count(*), count(DISTINCT source_key) FROM events") == [
        (n + added, n + added)
    ]
    assert report.cursor is not None and report.cursor.value == later + timedelta(hours=1)


def test_rejects_name_the_source_rows_key_and_a_fixed_row_replaces_its_reject(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    pg.execute(
        "CREATE TABLE signups (sid text PRIMARY KEY, who text, what text, at timestamptz, "
        "amount numeric(8, 2), seq bigint)"
    )
    pg.execute(
        "INSERT INTO signups VALUES ('s-1', 'ana', 'signed_up', '2024-01-01 10:00+02', NULL, 1), "
        "('s-2', NULL, 'signed_up', '2024-01-02', NULL, 2), "
        "('s-3', 'ben', NULL, '2024-01-03', 12.50, 3)"
    )
    mapping = ColumnMap(("who",), "what", "at", "amount")
    source = DatabaseSource("signups", pg_url, table="signups", cursor="seq", mapping=mapping)
    report = import_source(ws, source)
    assert (report.loaded, report.rejected) == (1, 2)
    assert workspace_rows(
        ws, "SELECT source_key, line, field, reason FROM rejected ORDER BY 1"
    ) == [
        ("s-2", None, "who", "missing customer id"),
        ("s-3", None, "what", "missing event"),
    ]
    assert workspace_rows(ws, f"SELECT source_key, {CONTENT} FROM events") == [
        ("s-1", "ana", "signed_up", datetime(2024, 1, 1, 8), None, '{"sid":"s-1","seq":1}')
    ]
    assert report.rejected_file is not None
    with report.rejected_file.open() as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["source", "source_key", "field", "reason", "raw"]
    assert lines[1][:4] == [source.describe(), "s-2", "who", "missing customer id"]
    assert json.loads(lines[1][4])["sid"] == "s-2"
    pg.execute("UPDATE signups SET what = 'signed_up', seq = 4 WHERE sid = 's-3'")
    (again,) = sync_sources(ws)
    assert (again.loaded, again.rejected, again.unchanged) == (1, 0, 0)
    assert workspace_rows(ws, "SELECT source_key FROM rejected") == [("s-2",)]
    assert workspace_rows(ws, "SELECT source_key, value FROM events ORDER BY 1") == [
        ("s-1", None), ("s-3", 12.5),
    ]  # fmt: skip


def test_without_an_integer_primary_key_a_cursor_must_be_named(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    pg.execute("CREATE TABLE log (customer_id text, event text, timestamp timestamp, seen bigint)")
    with pytest.raises(SourceError, match=r"has no integer primary key to follow; .* --cursor"):
        import_source(ws, DatabaseSource("log", pg_url, table="log"))
    with pytest.raises(SourceError, match=r"no column 'sen' for --cursor; did you mean 'seen'\?"):
        import_source(ws, DatabaseSource("log", pg_url, table="log", cursor="sen"))
    assert snapshot(ws) == ()


def test_a_query_source_with_a_key_that_is_not_unique_is_refused(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    pg.execute("CREATE TABLE o (id int, customer_id text, event text, timestamp timestamp)")
    pg.execute("INSERT INTO o VALUES (1, 'a', 'x', '2024-01-01'), (1, 'b', 'x', '2024-01-02')")
    query = "SELECT * FROM o WHERE event = 'x'"
    source = DatabaseSource("orders", pg_url, query=query, cursor="timestamp", key="id")
    with pytest.raises(SourceError, match=r"key column 'id' does not name one row: '1' \(2 rows\)"):
        import_source(ws, source)
    report = import_source(ws, DatabaseSource("orders", pg_url, query=query, cursor="timestamp"))
    assert (report.loaded, report.rejected) == (2, 0)  # no key: rows are known by content


def test_sync_names_unknown_sources_and_conflicting_registrations(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    with pytest.raises(SourceError, match=r"has no sources yet"):
        sync_sources(ws)
    create_events_table(pg_url, "events", simulated(5))
    import_source(ws, DatabaseSource("events", pg_url, table="events"))
    with pytest.raises(SourceError, match=r"no source named 'event'; did you mean 'events'\?"):
        sync_sources(ws, ["event"])
    other = DatabaseSource("events", pg_url, table="events", mapping=ColumnMap(event="id"))
    with pytest.raises(SourceError, match=r"a source named 'events' is already registered"):
        import_source(ws, other)


def test_sources_declared_in_the_settings_file_are_synced(
    pg: Any, pg_url: str, ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = simulated(50)
    create_events_table(pg_url, "events", events)
    monkeypatch.setenv("JK_TEST_PG", pg_url)
    settings = ws.root / "journeykit.toml"
    settings.write_text(
        settings.read_text() + '\n[sources.app]\nurl_env = "JK_TEST_PG"\ntable = "events"\n'
    )
    (report,) = sync_sources(ws)
    assert (report.source, report.loaded, report.registered) == ("app", events.num_rows, True)
    ((spec,),) = workspace_rows(ws, "SELECT spec FROM sources")
    assert pg_url not in spec and '"url": "env:JK_TEST_PG"' in spec  # no URL stored
    monkeypatch.delenv("JK_TEST_PG")
    with pytest.raises(
        SourceError, match=r"environment variable JK_TEST_PG \(its URL\) is not set"
    ):
        sync_sources(ws)


# The child pauses inside the sync's transaction (rows deleted and inserted, the cursor
# moved, the view about to be rebuilt) and is killed there.
_PAUSED_SYNC = """
import sys, time
from pathlib import Path
from journeykit.engine.workspace import sync_sources
from journeykit.events import sync
from journeykit.workspace import open_workspace

original = sync.refresh_events_view

def paused(*args, **kwargs):
    original(*args, **kwargs)
    print("paused", flush=True)
    time.sleep(60)

sync.refresh_events_view = paused
ws = open_workspace(Path(sys.argv[1]))
if len(sys.argv) > 2:  # import --from URL --table events --replace
    from journeykit.engine.workspace import import_source
    from journeykit.events.dbsource import DatabaseSource

    import_source(ws, DatabaseSource("events", sys.argv[2], table="events"), replace=True)
else:
    sync_sources(ws)
"""


def killed_while_paused(ws: Workspace, *args: str) -> None:
    kill_when_paused(_PAUSED_SYNC, str(ws.root), *args)


def test_a_killed_sync_leaves_the_workspace_as_it_was(pg: Any, pg_url: str, ws: Workspace) -> None:
    events = simulated(200)
    create_events_table(pg_url, "events", events, updated_at=True)
    import_source(ws, DatabaseSource("events", pg_url, table="events", cursor="updated_at"))
    before = snapshot(ws)
    pg.execute("UPDATE events SET event = 'changed', updated_at = '2031-01-01' WHERE id < 50")
    pg.execute(
        'INSERT INTO events SELECT id + 100000, customer_id, event, "timestamp", value, '
        "properties, '2031-01-02' FROM events WHERE id < 30"
    )
    killed_while_paused(ws)
    assert snapshot(ws) == before
    (report,) = sync_sources(ws)  # and the next sync does the work once
    assert (report.loaded, report.replaced) == (29, 49)
    assert ws_content(ws) == pg_content(pg, "events")


def test_a_deleted_row_stays_until_the_source_is_replaced(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    """A cursor sees rows added or changed, not deleted: sync keeps a deleted row's event
    (documented); import --from ... --replace reads the source again whole and drops it, in
    one transaction, with the earlier imports marked as replaced."""
    events = simulated(200)
    create_events_table(pg_url, "events", events)
    source = DatabaseSource("events", pg_url, table="events")
    import_source(ws, source)
    pg.execute("DELETE FROM events WHERE id % 10 = 0")
    pg.execute(
        'INSERT INTO events (id, customer_id, event, "timestamp", value, properties) '
        "VALUES (100000, 'c-new', 'signed_up', '2030-01-01', NULL, '{}')"
    )
    (synced,) = sync_sources(ws)
    assert (synced.loaded, synced.replaced) == (1, 0)
    deleted = events.num_rows // 10
    assert len(ws_content(ws)) == len(pg_content(pg, "events")) + deleted
    # A changed definition (another time zone) is taken too, not refused as a conflict.
    again = import_source(ws, replace(source, timezone="Europe/Lisbon"), replace=True)
    now = len(pg_content(pg, "events"))
    assert (again.read, again.loaded, again.registered) == (now, now, True)
    assert ws_content(ws) == pg_content(pg, "events")
    assert workspace_rows(
        ws, f"SELECT count(*) FROM imports WHERE replaced_by = '{again.import_id}'"
    ) == [(2,)]
    (after,) = sync_sources(ws)  # the source goes on from the new pull's cursor
    assert (after.loaded, after.replaced, after.import_id) == (0, 0, None)


def test_a_schema_qualified_table_with_quoted_names(pg: Any, pg_url: str, ws: Workspace) -> None:
    events = simulated(50)
    create_events_table(pg_url, "events", events)
    pg.execute('CREATE SCHEMA "Analytics"')
    try:
        pg.execute('CREATE TABLE "Analytics"."Events.Raw" (LIKE events INCLUDING ALL)')
        pg.execute('INSERT INTO "Analytics"."Events.Raw" SELECT * FROM events')
        table = '"Analytics"."Events.Raw"'
        report = import_source(ws, DatabaseSource("raw", pg_url, table=table))
        assert (report.loaded, report.rejected) == (events.num_rows, 0)
        ((spec,),) = workspace_rows(ws, "SELECT spec FROM sources WHERE name = 'raw'")
        assert DatabaseSource.from_json(spec).key == "id"  # its primary key was found
        pg.execute(
            'INSERT INTO "Analytics"."Events.Raw" (id, customer_id, event, "timestamp") '
            "VALUES (100000, 'c-new', 'signed_up', '2030-01-01')"
        )
        (synced,) = sync_sources(ws)
        assert (synced.loaded, synced.unchanged) == (1, 1)
        with pytest.raises(SourceError, match=r"no table 'Event' in schema 'Analytics'"):
            import_source(ws, DatabaseSource("x", pg_url, table='"Analytics".Event'))
    finally:
        pg.execute('DROP SCHEMA "Analytics" CASCADE')


def test_a_killed_replace_leaves_the_workspace_as_it_was(
    pg: Any, pg_url: str, ws: Workspace
) -> None:
    create_events_table(pg_url, "events", simulated(100))
    import_source(ws, DatabaseSource("events", pg_url, table="events"))
    pg.execute("DELETE FROM events WHERE id % 3 = 0")
    before = snapshot(ws)
    killed_while_paused(ws, pg_url)  # old rows removed, new ones in, about to commit
    assert snapshot(ws) == before
