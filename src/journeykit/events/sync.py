"""Pull rows from database sources into a workspace: only what is new, each row once.

A pull reads the rows whose cursor is at or past the last value seen (``>=``, not ``>``: rows
written later with the same cursor value are not missed; the ones seen already are recognised
by their key and left alone). Each pulled row is then one of:

- ``loaded``: its key is not stored yet;
- ``replaced``: its key is stored with other content (the row changed at the source): the
  stored event is removed and the new one added;
- ``unchanged``: its key is stored with the same content;
- ``rejected``: it cannot be an event; it is listed with its key (not a line number), and a
  stored version of it is removed, since the source no longer holds that event.

so ``read = loaded + replaced + unchanged + rejected``. Without a key, rows are known by
their content alone: a changed row is then a new event, and the old one stays.

A source pulled with ``replace`` (``import --from ... --replace``) is read again whole, as if
new: what it loaded before is removed in the same transaction (the history says which import
replaced it), and its definition (query, key, cursor, mapping) is the one given now. That is
also how rows deleted at the source leave the workspace: a cursor only sees rows added or
changed, so ``sync`` does not notice a deletion.

Like a file import, one command is one DuckDB transaction: rows, rejects, history and every
source's cursor are committed together, so a failed or killed sync changes nothing. Rows are
pulled before the transaction: a registered source's into in-memory staging (typed, to be
compared with what is stored), a new one's as the fetched Arrow rows, typed once on their way
in (so its first pull holds all its rows in memory). A sync that finds nothing new writes
nothing at all, except, when the rows at the cursor are not the ones recorded with it (a
workspace synced before they were kept, rows deleted there), the record of them.

Each pull records with the cursor the rows it found at the cursor's value (``Tail``: how many,
a digest of their typed content, the columns), which is what lets the next sync tell that
nothing is new before it loads any of this (engine.peek).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from journeykit.errors import did_you_mean
from journeykit.events.clean import typed_sql
from journeykit.events.dbsource import (
    Cursor,
    DatabaseSource,
    SourceError,
    Tail,
    record,
    record_tail,
    registered,
    storable,
)
from journeykit.events.importer import (
    REJECTED_FOLDER,
    STORED_KEY,
    Derive,
    prepare_schema,
    refresh_events_view,
    tidy_rejected_files,
    write_rejected_csv,
)
from journeykit.events.reader import STAGE, Progress
from journeykit.events.sources import Scan, resolve
from journeykit.events.sqltext import quote_ident, quote_literal
from journeykit.events.timestamps import check_timezone
from journeykit.workspace import Workspace

_INTEGER_TYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
# Integer types a BIGINT holds (events.importer stores such keys as ``source_int``).
_DUCKDB_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
_CONTENT = ("customer_id", "event", "timestamp", "value", "properties")
_ORD = "__jk_ord"
# What a pulled row is compared by and leaves in the workspace (events.sync._compare).
_TAIL_FIELDS = ("source_key", "_cursor", *_CONTENT, "reason", "field", "raw")


class Remote(Protocol):
    """A table or query on another database, as the engine reads it (engine.remote)."""

    def columns(self) -> dict[str, str]:
        """Column name -> ibis type name."""
        ...

    def primary_key(self) -> str | None:
        """The table's primary key when it is one column."""
        ...

    def rows(self, cursor: str | None, after: Cursor | None) -> AbstractContextManager[Any]:
        """An Arrow RecordBatchReader of the rows with ``cursor >= after`` (all without one)."""
        ...


@dataclass(frozen=True)
class SyncReport:
    """One source's pull; always ``read = loaded + replaced + unchanged + rejected``."""

    source: str
    import_id: str | None
    read: int
    loaded: int
    replaced: int
    unchanged: int
    rejected: int
    rejected_file: Path | None
    cursor: Cursor | None
    registered: bool = False  # this pull registered the source

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source, "import_id": self.import_id, "read": self.read,
            "loaded": self.loaded, "replaced": self.replaced, "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejected_file": str(self.rejected_file) if self.rejected_file else None,
            "cursor": self.cursor.to_json() if self.cursor else None,
            "registered": self.registered,
        }  # fmt: skip

    def summary(self) -> str:
        text = (
            f"read {self.read:,}, loaded {self.loaded:,}, replaced {self.replaced:,}, "
            f"unchanged {self.unchanged:,}, rejected {self.rejected:,}"
        )
        if self.rejected_file:
            text += f" (see {self.rejected_file})"
        if self.cursor is not None:
            text += f"; cursor at {self.cursor.value}"
        return text


def complete(source: DatabaseSource, remote: Remote) -> DatabaseSource:
    """Fill in the default key and cursor (the primary key) and check the named columns."""
    columns = remote.columns()
    where = f"source {source.name!r} ({source.what})"
    for option, name in (("--cursor", source.cursor), ("--key", source.key)):
        if name is not None and name not in columns:
            raise SourceError(
                f"{where}: no column {name!r} for {option}{did_you_mean(name, columns)} "
                f"(columns: {', '.join(columns)})"
            )
    pk = remote.primary_key() if source.table else None
    key = source.key or pk
    cursor = source.cursor
    if cursor is None and pk is not None and columns[pk] in _INTEGER_TYPES:
        cursor = pk
    if cursor is None:
        raise SourceError(
            f"{where} has no integer primary key to follow; name a column that only grows as "
            "rows are added or changed (an id, an updated-at time) with --cursor COLUMN"
        )
    return replace(source, cursor=cursor, key=key)


@dataclass(frozen=True)
class _Staged:
    source: DatabaseSource
    name: str
    new: bool  # nothing of it is stored (a new source, or one being replaced)
    replacing: bool  # registered, and pulled again whole in place of what it loaded
    read: int
    cursor: Cursor | None
    changed_cursor: bool
    changed_tail: bool = False  # the rows at the cursor are not the ones recorded
    # A new source's rows are not staged: the typed SELECT over the pulled Arrow rows (kept in
    # memory, numbered as __jk_ord) is written straight to the workspace in the transaction.
    direct: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def keyed(self) -> str:
        return f"({self.direct})" if self.direct else f"{STAGE}.keyed_{self.name}"

    @property
    def position(self) -> str:
        """The row's position in the pull (1, 2, ...), as ``source_row``."""
        return "k._ord" if self.direct else "k.rowid + 1"

    @property
    def compared(self) -> str:
        return f"{STAGE}.compared_{self.name}"


def sync_into(
    runner: Any,
    ws: Workspace,
    sources: Sequence[tuple[DatabaseSource, Remote]],
    *,
    progress: Progress | None = None,
    replace: bool = False,
    derive: Derive | None = None,
) -> list[SyncReport]:
    """Pull every source into the workspace's database (open as ``runner``, closed here) in one
    transaction; see the module docstring. Sources not registered yet are registered;
    ``replace``: registered ones are pulled again whole, replacing what they loaded."""
    written: list[Path] = []
    held = ExitStack()
    try:
        prepare_schema(runner)
        tidy_rejected_files(runner, ws)
        known = registered(runner)
        runner.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {STAGE}")
        if derive is not None:
            derive.prefetch()
        staged = []
        for i, (source, remote) in enumerate(sources):
            earlier = known.get(source.name)
            if not replace and earlier is not None and not earlier.source.same_rows(source):
                raise SourceError(
                    f"a source named {source.name!r} is already registered as "
                    f"{earlier.source.describe()}; choose another --name"
                )
            cursor = earlier.cursor if earlier and not replace else None
            staged.append(_stage(runner, held, f"s{i}", source, remote, cursor,
                                 earlier is None, replace and earlier is not None))  # fmt: skip
            if progress is not None:
                progress("pulling", 100.0 * (i + 1) / len(sources))
        try:
            with runner.transaction():
                reports = [_apply(runner, ws, s, written) for s in staged]
                if any(r.import_id for r in reports):
                    refresh_events_view(runner)
                if derive is not None:
                    derive(runner)  # as in events.importer.import_into
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        return reports
    finally:
        held.close()
        runner.close()


def _stage(
    runner: Any,
    held: ExitStack,
    name: str,
    source: DatabaseSource,
    remote: Remote,
    after: Cursor | None,
    new: bool,
    replacing: bool = False,
) -> _Staged:
    """Pull the rows. A source with rows stored is typed and checked as they stream in (one
    pass, no copy of the raw rows) into staging, to compare with what is stored; a new one's
    rows are kept as Arrow and typed once, on their way into the workspace (``direct``)."""
    check_timezone(source.timezone)
    staged = _Staged(source, name, new or replacing, replacing, 0, after, False)
    key, cursor = source.key, quote_ident(str(source.cursor))
    view = f"jk_pull_{name}"
    with remote.rows(source.cursor, after) as reader, ExitStack() as streaming:
        if staged.new:
            held.enter_context(runner.arrow_view(view, _numbered(reader.read_all())))
            from_sql = f"SELECT {_ORD} AS _ord, * EXCLUDE ({_ORD}) FROM {view}"
        else:
            streaming.enter_context(runner.arrow_view(view, reader))
            # Rows are numbered by the staged table's rowid (_ord is only a placeholder).
            from_sql = f"SELECT 0 AS _ord, * FROM {view}"
        described = runner.fetchall(f"DESCRIBE {from_sql}")
        columns = {str(r[0]): str(r[1]) for r in described if r[0] != "_ord"}
        select, params = typed_pull(source, columns, from_sql)
        if staged.new:
            staged = replace(staged, direct=select, params=params)
            top_sql = f"SELECT count(*), max({cursor}) FROM {view}"
            keys = f"(SELECT {_key_sql(key)} AS source_key FROM {view})"
            at_top = typed_pull(source, columns, f"{from_sql} WHERE {cursor} = "
                                f"(SELECT max({cursor}) FROM {view})")  # fmt: skip
        else:
            runner.execute(f"CREATE OR REPLACE TABLE {staged.keyed} AS {select}", params)
            top_sql = f"SELECT count(*), max(_cursor) FROM {staged.keyed}"
            keys = staged.keyed
            at_top = (
                f"SELECT * FROM {staged.keyed} WHERE _cursor = "
                f"(SELECT max(_cursor) FROM {staged.keyed})",
                {},  # typed already
            )
    # A table's primary key is unique by the database's own rule (and one query reads one
    # snapshot); any other key is checked, which costs a pass over the pulled rows.
    if key is not None and not (source.table and key == remote.primary_key()):
        _check_unique(runner, source, keys, key)
    # Compared before the transaction: a DuckDB transaction writes to one database only, and
    # this process holds the workspace's file, so what is stored cannot change meanwhile.
    if not staged.new:  # a new source has nothing stored to compare with
        _compare(runner, staged)
    read, top = runner.fetchone(top_sql)
    tail = Tail(*tail_digest(runner, *at_top), tuple(columns.items()))
    found = Cursor(remote.columns()[str(source.cursor)], top, tail) if top is not None else None
    if found is None and after is not None:
        found = replace(after, tail=tail)
    recorded = after.tail if after is not None else None
    return replace(staged, read=int(read), cursor=found, changed_cursor=found != after,
                   changed_tail=found is not None and tail != recorded)  # fmt: skip


def typed_pull(
    source: DatabaseSource, columns: dict[str, str], from_sql: str
) -> tuple[str, dict[str, Any]]:
    """The typed SELECT (events.clean) of a source's rows ``from_sql`` (``_ord`` first, then
    ``columns``), carrying each row's key (as text, and as ``source_int`` when the key is an
    integer column: the workspace stores it so) and cursor, with its parameters."""
    key, cursor = source.key, quote_ident(str(source.cursor))
    scan = Scan(Path(source.name), "table", columns, from_sql)
    resolved = resolve(source.mapping, list(columns), source.name)
    checks = [(f"{quote_ident(key)} IS NULL", "missing key", key)] if key else []
    whole = key is not None and columns.get(key) in _DUCKDB_INTEGERS
    as_int = f"CAST({quote_ident(str(key))} AS BIGINT)" if whole else "CAST(NULL AS BIGINT)"
    select = typed_sql(
        scan, resolved, source.timezone, carry=[f"{_key_sql(key)} AS source_key",
        f"{as_int} AS source_int", f"{cursor} AS _cursor"], checks=checks, row_hash=False,
    )  # fmt: skip
    return select, ({"tz": source.timezone} if source.timezone != "UTC" else {})


def _key_sql(key: str | None) -> str:
    return f"CAST({quote_ident(key)} AS VARCHAR)" if key else "CAST(NULL AS VARCHAR)"


def tail_digest(runner: Any, typed: str, params: dict[str, Any]) -> tuple[int, str]:
    """How many rows the typed SELECT ``typed`` (see typed_pull) gives, and a digest of what
    a sync compares and keeps of them, in any order."""
    fields = ", ".join(quote_ident(c) for c in _TAIL_FIELDS)
    count, digest = runner.fetchone(
        "SELECT count(*), md5(coalesce(string_agg(j, chr(10) ORDER BY j), '')) FROM (SELECT "
        f"CAST(to_json(struct_pack({fields})) AS VARCHAR) AS j FROM ({typed}))",
        params,
    )
    return int(count), str(digest)


def _numbered(rows: Any) -> Any:
    """The pulled Arrow rows with their position (1, 2, ...) as a last column."""
    import numpy as np
    import pyarrow as pa

    return rows.append_column(_ORD, pa.array(np.arange(1, rows.num_rows + 1, dtype=np.int64)))


def _check_unique(runner: Any, source: DatabaseSource, keys: str, key: str) -> None:
    repeated = runner.fetchall(
        f"SELECT source_key, count(*) FROM {keys} WHERE source_key IS NOT NULL "
        "GROUP BY 1 HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 3"
    )
    if repeated:
        shown = ", ".join(f"{k!r} ({n} rows)" for k, n in repeated)
        raise SourceError(
            f"source {source.name!r}: the key column {key!r} does not name one row: "
            f"{shown}; name a unique column with --key"
        )


def _apply(runner: Any, ws: Workspace, s: _Staged, written: list[Path]) -> SyncReport:
    source = s.source
    mine = _imports_of(source)
    if s.new:  # every row is loaded or rejected: counted as they are written
        loaded, replaced, unchanged, rejected, withdrawn = s.read, 0, 0, 0, 0
    else:
        counts = (
            "SELECT count(*) FILTER (reason IS NULL AND NOT stored), "
            "count(*) FILTER (reason IS NULL AND stored AND NOT same), "
            "count(*) FILTER ((reason IS NULL AND stored AND same) OR again), "
            "count(*) FILTER (reason IS NOT NULL AND NOT again), "
            f"count(*) FILTER (reason IS NOT NULL AND stored) FROM {s.compared}"
        )
        loaded, replaced, unchanged, rejected, withdrawn = (int(x) for x in runner.fetchone(counts))
    changed = loaded + replaced + rejected
    import_id = uuid.uuid4().hex[:12]
    if s.replacing:
        _forget(runner, source, import_id)
    if s.new or s.changed_cursor:
        record(runner, storable(source), s.cursor, new=s.new)
    elif s.changed_tail and s.cursor is not None:
        record_tail(runner, source, s.cursor)
    if not changed and not s.replacing:
        return SyncReport(source.name, None, s.read, 0, 0, unchanged, 0, None, s.cursor, s.new)
    key = int(runner.fetchone("SELECT coalesce(max(import_key), 0) + 1 FROM imports")[0])
    if replaced or withdrawn:
        runner.execute(
            f"DELETE FROM event_rows WHERE import_key IN ({mine}) AND {STORED_KEY.format('')} IN "
            f"(SELECT c.source_key FROM {s.compared} c "
            "WHERE c.stored AND NOT (c.same AND c.reason IS NULL))"
        )
    if source.key and not s.new:  # a row pulled again replaces its earlier reject
        runner.execute(
            "DELETE FROM rejected WHERE import_id IN (SELECT import_id FROM imports WHERE "
            f"source_name = $name) AND source_key IN (SELECT source_key FROM {s.compared} "
            "WHERE NOT again)",
            {"name": source.name},
        )
    (inserted,) = runner.fetchone(
        "INSERT INTO event_rows (customer_id, event, timestamp, value, properties, source_row, "
        "import_key, source_key, source_int) SELECT k.customer_id, k.event, k.timestamp, "
        f"k.value, k.properties, {s.position}, $key, CASE WHEN k.source_int IS NULL THEN "
        f"k.source_key END, k.source_int {_picked(s, refused=False)}",
        {**s.params, "key": key},
    )
    if s.new:
        loaded, rejected = int(inserted), s.read - int(inserted)
    rejected_file = _save_rejected(runner, ws, s, import_id, written) if rejected else None
    runner.execute(
        "INSERT INTO imports (import_id, source, sha256, options, imported_at, read, loaded, "
        "duplicates, rejected, rejected_file, replaced_by, import_key, size, source_name, "
        "replaced) VALUES ($id, $source, '', $options, $at, $read, $loaded, $unchanged, "
        "$rejected, $file, NULL, $key, -1, $name, $replaced)",
        {"id": import_id, "source": source.describe(), "options": storable(source).to_json(),
         "at": datetime.now(UTC).replace(tzinfo=None), "read": s.read, "loaded": loaded,
         "unchanged": unchanged, "rejected": rejected,
         "file": str(rejected_file) if rejected_file else None, "key": key,
         "name": source.name, "replaced": replaced},
    )  # fmt: skip
    return SyncReport(source.name, import_id, s.read, loaded, replaced, unchanged, rejected,
                      rejected_file, s.cursor, s.new)  # fmt: skip


def _picked(s: _Staged, *, refused: bool) -> str:
    """FROM ... WHERE for the pulled rows to write: new events, or rejects new to the source."""
    test = "k.reason IS NOT NULL" if refused else "k.reason IS NULL"
    if s.new:
        return f"FROM {s.keyed} k WHERE {test}"
    fresh = "NOT c.again" if refused else "NOT c.same"
    return f"FROM {s.keyed} k JOIN {s.compared} c ON k.rowid = c._ord WHERE {test} AND {fresh}"


def _imports_of(source: DatabaseSource) -> str:
    return (
        "SELECT import_key FROM imports WHERE replaced_by IS NULL AND "
        f"source_name = {quote_literal(source.name)}"
    )


def _forget(runner: Any, source: DatabaseSource, import_id: str) -> None:
    """Remove what a source loaded and its registration; its imports stay in the history,
    marked as replaced by ``import_id``."""
    earlier = "SELECT import_id FROM imports WHERE replaced_by IS NULL AND source_name = $name"
    params = {"name": source.name}
    runner.execute(f"DELETE FROM event_rows WHERE import_key IN ({_imports_of(source)})")
    runner.execute(f"DELETE FROM rejected WHERE import_id IN ({earlier})", params)
    runner.execute(
        f"UPDATE imports SET replaced_by = $new WHERE import_id IN ({earlier})",
        {**params, "new": import_id},
    )
    runner.execute("DELETE FROM sources WHERE name = $name", params)


def _compare(runner: Any, s: _Staged) -> None:
    """Each pulled row: is its key (or, without a key, its content) stored, and the same? And
    for a refused row: was it refused the same way before (``again``)?"""
    name = quote_literal(s.source.name)
    stored = (
        f"(SELECT * REPLACE ({STORED_KEY.format('')} AS source_key) FROM event_rows "
        f"WHERE import_key IN ({_imports_of(s.source)}))"
    )
    again = (
        "k.reason IS NOT NULL AND EXISTS (SELECT 1 FROM rejected r WHERE r.import_id IN "
        f"(SELECT import_id FROM imports WHERE source_name = {name}) AND "
        "r.source_key IS NOT DISTINCT FROM k.source_key AND r.reason = k.reason AND r.raw = k.raw)"
    )
    same = " AND ".join(
        f"e.{c} IS NOT DISTINCT FROM k.{c}" if c == "value" else f"e.{c} = k.{c}" for c in _CONTENT
    )
    if s.source.key:
        runner.execute(
            f"CREATE OR REPLACE TABLE {s.compared} AS SELECT k.rowid AS _ord, k.source_key, "
            f"k.reason, e.source_key IS NOT NULL AS stored, coalesce({same}, false) AS same, "
            f"{again} AS again FROM {s.keyed} k LEFT JOIN {stored} e "
            "ON e.source_key = k.source_key"
        )
        return
    # No key: a row is known by its content; an exact copy earlier in the pull is the same row.
    content = ", ".join(f"k.{c}" for c in _CONTENT)
    plain = ", ".join(_CONTENT)
    runner.execute(
        f"CREATE OR REPLACE TABLE {s.compared} AS SELECT k.rowid AS _ord, k.source_key, "
        "k.reason, k.reason IS NULL AND (e.hit IS NOT NULL OR row_number() OVER "
        f"(PARTITION BY k.reason IS NULL, {content} ORDER BY k.rowid) > 1) AS stored, "
        f"stored AS same, {again} AS again FROM {s.keyed} k LEFT JOIN "
        f"(SELECT DISTINCT {plain}, true AS hit FROM {stored}) e ON {same}"
    )


def _save_rejected(
    runner: Any, ws: Workspace, s: _Staged, import_id: str, written: list[Path]
) -> Path:
    runner.execute(
        "INSERT INTO rejected (import_id, source, line, field, reason, raw, source_key) "
        "SELECT $id, $source, NULL, k.field, k.reason, k.raw, k.source_key "
        f"{_picked(s, refused=True)}",
        {**s.params, "id": import_id, "source": s.source.describe()},
    )
    folder = ws.root / REJECTED_FOLDER
    folder.mkdir(exist_ok=True)
    path = folder / f"rejected-{s.source.name}-{import_id}.csv"
    written.append(path)
    write_rejected_csv(
        runner,
        f"SELECT {quote_literal(s.source.describe())} AS source, source_key, field, reason, raw "
        f"FROM rejected WHERE import_id = {quote_literal(import_id)}",
        path,
        order="source_key",
    )
    return path
