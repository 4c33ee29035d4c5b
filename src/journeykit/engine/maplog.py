"""The milestone logs a workspace keeps: built at import, per imported batch, read by the web app.

Every map, dashboard and list starts from a journey's milestone log (``analytics.milestones``).
Building it means tagging every event (a scan of all of them: tens of seconds at 10M events on a
busy machine), and the web app's cache is cold after every import. So each import, inside its
own transaction, tags only the rows it added, for every journey of the workspace, and stores them
in ``milestone_rows``; the app then reads the much smaller log instead of scanning the events.

A log is known by the digest of what decides it (the milestones' ids, order and rules), so an
edited rule starts a new log and a title change does not. ``milestone_logs`` records, per log,
which rows it covers: each current import's key and its row count, and the identity map and
currency rates it was tagged through. A log whose record differs from the workspace's state is
brought up to date by the next write (only the imports whose rows changed are tagged again) and
is never read meanwhile: the reader falls back to tagging the events, as before. Since a tag
depends on one event alone, the stored rows are exactly what tagging all events would give.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from journeykit.events.schema import EVENT_COLUMNS
from journeykit.events.sqltext import quote_literal

# numpy, pyarrow and the analytics are imported where a stored log is read: a write, which
# only runs SQL, would otherwise import them in its prefetch thread (0.2 CPU s of an import).
if TYPE_CHECKING:
    import pyarrow as pa

    from journeykit.analytics.milestones import MilestoneFrame
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.journey import Journey

_ROWS = (
    "CREATE TABLE IF NOT EXISTS milestone_rows (log VARCHAR NOT NULL, import_key INTEGER NOT "
    "NULL, customer_id VARCHAR NOT NULL, milestone SMALLINT NOT NULL, timestamp TIMESTAMP NOT "
    "NULL, value DOUBLE, event_key BIGINT)"
)
# Each customer's last event of any kind per import: ``positions`` judges ``lapsed`` by it.
_LAST = (
    "CREATE TABLE IF NOT EXISTS customer_last (log VARCHAR NOT NULL, import_key INTEGER NOT "
    "NULL, customer_id VARCHAR NOT NULL, last TIMESTAMP NOT NULL)"
)
_LOGS = (
    "CREATE TABLE IF NOT EXISTS milestone_logs (log VARCHAR PRIMARY KEY, shared BOOLEAN NOT "
    "NULL, coverage VARCHAR NOT NULL, merges VARCHAR NOT NULL)"
)


_KEPT = ("milestone_rows", "customer_last", "milestone_logs")


def log_digest(journey: Journey) -> str:
    """What decides a journey's milestone log: its milestones' ids, order and rules."""
    rules = [
        [m.id, None if m.when is None else m.when.model_dump(mode="json")]
        for m in journey.milestones
    ]
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()[:24]


@dataclass(frozen=True)
class State:
    """What a stored log must match to be read: rows per current import, and the merges."""

    coverage: dict[int, int]
    merges: str

    def coverage_text(self) -> str:
        return json.dumps(sorted(self.coverage.items()))


def _tables(engine: Any, alias: str) -> set[str]:
    rows = engine.fetchall(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = $db", {"db": alias}
    )
    return {r[0] for r in rows}


def merges_of(engine: Any, alias: str) -> str:
    """The identity map and currency rates, as one digest: every customer id and value of the
    ``events`` view goes through them (schema 3 workspaces have them)."""
    if not {"identities", "rates"} <= _tables(engine, alias):
        return ""
    row = engine.fetchone(
        f"SELECT 'merges:' || coalesce(sum(hash(alias, customer_id)), 0) || ':' || "
        f"(SELECT coalesce(sum(hash(currency, valid_from, rate)), 0) FROM {alias}.rates) "
        f"|| ':' || (SELECT coalesce(max(value), '') FROM {alias}.journeykit_meta "
        "WHERE key = 'rates') "
        f"FROM {alias}.identities"
    )
    return str(row[0])


def state_of(engine: Any, alias: str) -> State:
    # Counted before the join: a join of every event to its import costs 4x the count.
    rows = engine.fetchall(
        f"SELECT i.import_key, coalesce(e.n, 0) FROM {alias}.imports i LEFT JOIN "
        f"(SELECT import_key, count(*) AS n FROM {alias}.event_rows GROUP BY 1) e "
        "USING (import_key) WHERE i.replaced_by IS NULL"
    )
    return State({int(k): int(n) for k, n in rows}, merges_of(engine, alias))


@dataclass(frozen=True)
class LogQuery:
    """A journey's tagging as SQL over the events of one import (the relation ``jk_log_events``).
    Built from the journey alone, without the database, so that a write can build it while it
    reads its rows."""

    digest: str
    sql: str
    keyed: bool  # two rules may match one event: the log keys events


_LOG_EVENTS = "jk_log_events"


def log_query(journey: Journey) -> LogQuery | None:
    """The journey's ``LogQuery``; None when no milestone has a rule (it keeps no log).

    Building it imports ibis and compiles the rules: 0.44-0.49 CPU s of every ``journeykit
    import`` or ``sync`` (measured on a CLI import), for SQL that only the journey and the code
    decide. So it is kept in the user's cache, keyed by the journey's whole content and by
    ``_code_stamp``; a kept query is read back in a few milliseconds without ibis.
    """
    if not any(m.when is not None for m in journey.milestones):
        return None
    from journeykit._cache import entry_file, read_entry, write_entry

    digest = log_digest(journey)
    try:
        file = entry_file("logsql", _code_stamp(), journey.model_dump_json())
    except OSError:  # a module file gone while it was looked at: build it, keep nothing
        file = None
    kept = _kept_query(read_entry(file), digest)
    if kept is not None:
        return kept
    import ibis

    from journeykit.analytics.milestones import milestone_log

    # The events view's columns are the canonical ones (``events.schema``): an unbound table of
    # them compiles as the bound view does.
    tagged = milestone_log(ibis.table(EVENT_COLUMNS, name=_LOG_EVENTS), journey)
    query = LogQuery(digest, ibis.to_sql(tagged, dialect="duckdb"), "event_key" in tagged.columns)
    entry = {"digest": digest, "sql": query.sql, "keyed": query.keyed}
    write_entry(file, json.dumps(entry), _LOG_SQL_ENTRIES)
    return query


_LOG_SQL_ENTRIES = 256  # journeys' queries kept, the least recently written dropped first


def _kept_query(raw: bytes | None, digest: str) -> LogQuery | None:
    """The kept entry as a query, or None when there is none or it is not one (it is built)."""
    try:
        entry = json.loads(raw) if raw is not None else None
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("digest") != digest:
        return None
    sql, keyed = entry.get("sql"), entry.get("keyed")
    if not isinstance(sql, str) or not isinstance(keyed, bool):
        return None
    return LogQuery(digest, sql, keyed)


@functools.cache
def _code_stamp() -> str:
    """What the compiled SQL depends on besides the journey: journeykit's own modules (every
    file: an edit in a working copy counts), ibis and sqlglot (their ``__init__``: an install
    or upgrade writes it anew), each known by size and modification time, found without
    importing ibis. Any change builds the query again."""
    return code_stamp({"journeykit": True, "ibis": False, "sqlglot": False})


def code_stamp(packages: dict[str, bool]) -> str:
    """A digest of the packages' files (all of a package's modules when True, else its
    ``__init__``) by path, size and modification time."""
    from importlib.util import find_spec

    parts = []
    for name, every_module in packages.items():
        spec = find_spec(name)
        files = [spec.origin] if spec is not None and spec.origin else []
        if every_module and spec is not None:
            for root in spec.submodule_search_locations or []:
                for folder, _, names in sorted(os.walk(root)):
                    files += [os.path.join(folder, f) for f in sorted(names) if f.endswith(".py")]
        for path in files:
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
        parts.append(f"{name}:{len(files)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def update_logs(engine: DuckDBEngine, queries: list[LogQuery]) -> None:
    """Bring the stored log of each journey (by its ``log_query``) up to date with the
    events, inside the caller's transaction (``engine`` is the workspace's database open for
    writing). Logs of rules no journey has any more are dropped.
    """
    for sql in (_ROWS, _LAST, _LOGS):
        engine.execute(sql)
    wanted: dict[str, LogQuery] = {}
    for q in queries:
        wanted.setdefault(q.digest, q)
    keep = ", ".join(quote_literal(d) for d in wanted) or "NULL"
    for table in _KEPT:
        engine.execute(f"DELETE FROM {table} WHERE log NOT IN ({keep})")
    if not wanted:
        return
    state = state_of(engine, str(engine.fetchone("SELECT current_database()")[0]))
    for query in wanted.values():
        _update(engine, query, state)


def _update(engine: DuckDBEngine, query: LogQuery, state: State) -> None:
    digest = query.digest
    row = engine.fetchall(
        "SELECT coverage, merges FROM milestone_logs WHERE log = $log", {"log": digest}
    )
    covered: dict[int, int] = {}
    if row and row[0][1] == state.merges:
        covered = {int(k): int(n) for k, n in json.loads(row[0][0])}
    stale = [k for k, n in covered.items() if state.coverage.get(k) != n]
    which = f"AND import_key IN ({', '.join(str(k) for k in stale)})" if covered else ""
    if stale or not covered:
        for table in _KEPT[:2]:
            engine.execute(f"DELETE FROM {table} WHERE log = $log {which}", {"log": digest})
    added = [k for k, n in sorted(state.coverage.items()) if covered.get(k) != n]
    for key in added:
        _tag_import(engine, query, key)
    if len(added) > 1 or (added and len(state.coverage) > 1):
        _sort_rows(engine, digest)
    engine.execute(
        "INSERT OR REPLACE INTO milestone_logs VALUES ($log, $shared, $coverage, $merges)",
        {"log": digest, "shared": query.keyed, "coverage": state.coverage_text(),
         "merges": state.merges},
    )  # fmt: skip


def _tag_import(engine: DuckDBEngine, query: LogQuery, key: int) -> None:
    """Store the log rows of one import's events (with the event's key when two rules may
    match one event, as ``analytics.milestones`` makes it)."""
    columns = ", ".join(EVENT_COLUMNS)
    event_key = "event_key" if query.keyed else "NULL"
    params = {"log": query.digest, "key": key}
    # Sorted before the constant columns are added: a sort carries every column it returns.
    events = f"SELECT {columns} FROM events WHERE import_key = $key"
    engine.execute(
        "INSERT INTO milestone_rows SELECT $log, $key, customer_id, milestone, timestamp, value, "
        f"{event_key} FROM ({_tagged(query, events)} ORDER BY customer_id, timestamp)",
        params,
    )
    engine.execute(
        "INSERT INTO customer_last SELECT $log, $key, customer_id, max(timestamp) FROM events "
        "WHERE import_key = $key GROUP BY customer_id",
        params,
    )


def _tagged(query: LogQuery, events: str) -> str:
    """The query's log rows of the events that the SELECT ``events`` gives (canonical columns)."""
    return f"WITH {_LOG_EVENTS} AS ({events}) SELECT * FROM ({query.sql})"


def _sort_rows(engine: DuckDBEngine, digest: str) -> None:
    """Store the log's rows in the order every analysis reads them (by customer, then time),
    so that reading it needs no sort: a sort of the whole log at import instead of at view.
    Removing rows keeps the order, so only adding to a log that has rows calls this."""
    params = {"log": digest}
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE jk_sorted_rows AS SELECT * FROM milestone_rows "
        "WHERE log = $log ORDER BY customer_id, timestamp",
        params,
    )
    engine.execute("DELETE FROM milestone_rows WHERE log = $log", params)
    engine.execute("INSERT INTO milestone_rows SELECT * FROM jk_sorted_rows")
    engine.execute("DROP TABLE jk_sorted_rows")


def _current(engine: DuckDBEngine, alias: str, journey: Journey) -> tuple[str, bool] | None:
    """The digest of the journey's stored log and whether it keys events, when the workspace
    attached as ``alias`` has one that is up to date."""
    if not set(_KEPT) <= _tables(engine, alias):
        return None
    digest = log_digest(journey)
    row = engine.fetchall(
        f"SELECT shared, coverage, merges FROM {alias}.milestone_logs WHERE log = $log",
        {"log": digest},
    )
    if not row:
        return None
    shared, coverage, merges = row[0]
    state = state_of(engine, alias)
    if coverage != state.coverage_text() or merges != state.merges:
        return None
    return digest, bool(shared)


def has_current_log(engine: DuckDBEngine, alias: str, journey: Journey) -> bool:
    """Whether the workspace attached as ``alias`` keeps this journey's log up to date."""
    return _current(engine, alias, journey) is not None


def stored_counts(engine: DuckDBEngine, alias: str, journey: Journey) -> dict[str, int] | None:
    """Per milestone with a rule, the events its rule matches, from the stored log (one row
    per event and milestone it reaches); None when the log is not up to date."""
    current = _current(engine, alias, journey)
    if current is None:
        return None
    rows = engine.fetchall(
        f"SELECT milestone, count(*) FROM {alias}.milestone_rows WHERE log = $log GROUP BY 1",
        {"log": current[0]},
    )
    ids = [m.id for m in journey.milestones]
    return {ids[int(i)]: int(n) for i, n in rows}


def stored_frame(engine: DuckDBEngine, alias: str, journey: Journey) -> MilestoneFrame | None:
    """The journey's milestone log as stored in the workspace attached as ``alias``, sorted as
    ``fetch_milestones`` sorts it; None when there is none or it is not up to date."""
    current = _current(engine, alias, journey)
    if current is None:
        return None
    digest, shared = current
    log = {"log": digest}
    select = (
        f"SELECT customer_id, milestone, timestamp, value{', event_key' if shared else ''} "
        f"FROM {alias}.milestone_rows WHERE log = $log"
    )
    table = engine.arrow(select, log)  # stored in order (_sort_rows)...
    if not _in_order(table):  # ...which is checked, not assumed
        table = engine.arrow(select + " ORDER BY customer_id, timestamp", log)
    last = engine.arrow(
        f"SELECT customer_id, max(last) AS last FROM {alias}.customer_last WHERE log = $log "
        "GROUP BY 1",
        log,
    )
    latest = engine.fetchone(f"SELECT max(timestamp) FROM {alias}.event_rows")[0]
    return _frame(table, last, latest, journey)


def _frame(table: pa.Table, last: pa.Table, latest: Any, journey: Journey) -> MilestoneFrame:
    """The frame of log rows sorted by customer then time, with each customer's last event
    (``last``: customer_id, last) and the latest event of all as its "now"."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from journeykit.analytics.columns import to_numpy
    from journeykit.analytics.milestones import arrow_ids, frame_from_arrow

    now = int(np.datetime64(latest, "us").astype(np.int64)) if latest is not None else 0
    frame = frame_from_arrow(table, journey, now)
    where = pc.index_in(arrow_ids(frame), value_set=last["customer_id"])
    if where.null_count:
        return frame  # a customer without a last event (cannot happen): judge by the events
    stamps = last.column("last").cast(pa.timestamp("us")).take(where)
    return replace(frame, last_seen=to_numpy(stamps))


def workspace_log(directory: Path, journey: Journey) -> MilestoneFrame | None:
    """The journey's stored log in the workspace folder ``directory``, on a DuckDB connection
    of its own, closed after: what a command answers from without Ibis, pandas or a scan of the
    events. None when nothing was imported yet or no up-to-date log has the journey's rules
    (the caller then tags the events)."""
    from journeykit.engine.duckdb import DuckDBEngine
    from journeykit.workspace import open_workspace

    ws = open_workspace(directory)
    if not ws.database.exists():
        return None
    engine = DuckDBEngine()
    try:
        return stored_frame(engine, engine.attach_read_only(ws.database), journey)
    finally:
        engine.close()


def file_log(
    engine: DuckDBEngine, path: Path, journey: Journey
) -> tuple[MilestoneFrame, str] | None:
    """The journey's milestone log of an events file, and the view of the file's events staged
    on ``engine`` (for a later question about the events: the file is not read again). The
    file is read as ``--events FILE`` reads it (``events.reader``: the same checks, rejects and
    copies, said the same way) and tagged with the journey's kept SQL (``log_query``) on
    DuckDB's own connection: the frame a stored log gives, without Ibis. None when the journey
    has no rule (nothing is read; the caller reads the events)."""
    import pyarrow.compute as pc

    from journeykit.events.reader import stage_events

    query = log_query(journey)
    if query is None:
        return None
    view, _, _ = stage_events(engine, path)
    events = f"SELECT {', '.join(EVENT_COLUMNS)} FROM {view}"
    tagged = f"SELECT * FROM ({_tagged(query, events)}) ORDER BY customer_id, timestamp"
    table = engine.arrow(tagged)
    last = engine.arrow(f"SELECT customer_id, max(timestamp) AS last FROM {view} GROUP BY 1")
    # The latest event of all is the latest of the customers' last ones: no third scan.
    latest = pc.max(last.column("last")).as_py()
    return _frame(table, last, latest, journey), view


def _in_order(table: pa.Table) -> bool:
    """Rows sorted by customer_id, then timestamp (as DuckDB's ORDER BY sorts them)."""
    import pyarrow.compute as pc

    n = table.num_rows
    if n < 2:
        return True
    ids = table.column("customer_id")
    ts = table.column("timestamp")
    a, b = ids.slice(0, n - 1), ids.slice(1)
    before = pc.less(a, b)
    same = pc.equal(a, b)
    later = pc.less_equal(ts.slice(0, n - 1), ts.slice(1))
    ok = pc.or_(before, pc.and_(same, later))
    return bool(pc.all(ok).as_py())
