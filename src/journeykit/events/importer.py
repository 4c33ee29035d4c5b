"""Import event files into a workspace: all or nothing, and the same file twice changes nothing.

One command is one DuckDB transaction: the rows of every file, their rejects and the history
entries are committed together, so a failure, Ctrl-C or a killed process leaves the database as
it was (DuckDB's write-ahead log only replays committed transactions).

The rejected rows' CSV is a copy of the ``rejected`` table, named after its import id and written
before the commit. The database decides what exists: each import first removes rejects files
whose import id is not a committed, current import (left by a killed or replaced import) and
rewrites any a committed import lacks, so a kill at any point leaves the workspace as before or
as after once the next import starts.

A file is known by the SHA-256 of its bytes plus the reading options; importing it again reports
every row as already there. When no current import has the same options and size, the file
cannot have been imported, so it is hashed while DuckDB reads it instead of before.
``replace=True`` first removes what earlier imports of the same file (by path or by content)
loaded, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from journeykit.errors import WorkspaceError
from journeykit.events.errors import EventFileError, StrictImportError
from journeykit.events.reader import Progress, ReadResult, Staged, read_file
from journeykit.events.sources import ColumnMap, count_lines, detect_format
from journeykit.events.sqltext import quote_literal
from journeykit.workspace import Workspace

# Workspace schema 2 stores events in ``event_rows`` with a small integer ``import_key``; the
# ``events`` view adds ``source`` and ``import_id`` from a literal CASE over the imports, rebuilt
# by every import. Writing two text columns per row cost about a quarter of an import, and a
# view with a join to ``imports`` would make every analysis pay for a hash join (DuckDB does not
# remove unused joins); an unused CASE column costs nothing. Schema 1 (before) had ``events`` as
# a table with all eight columns; it is upgraded by the next import. Schema 3 adds what a
# database source needs (events.dbsource): each row's key in the source table (``source_key``,
# NULL for files) on events and rejects, the source's name and the rows replaced on imports,
# and the ``sources`` table with each source's definition and cursor. Schema 4 stores an integer
# key as an integer (``source_int``, ``source_key`` NULL): a million distinct key texts cost as
# much to write as the rest of a database row (readers see one ``source_key``: ``STORED_KEY``).
SCHEMA_VERSION = 4
# customer_id is stored with FSST: DuckDB's compression analysis would otherwise also try a
# dictionary on this high-cardinality column, which costs more than the rest of the write.
_EVENT_ROWS = (
    "CREATE TABLE IF NOT EXISTS event_rows ("
    "customer_id VARCHAR USING COMPRESSION fsst NOT NULL, event VARCHAR NOT NULL, "
    "timestamp TIMESTAMP NOT NULL, value DOUBLE, properties VARCHAR NOT NULL, "
    "source_row BIGINT NOT NULL, import_key INTEGER NOT NULL, source_key VARCHAR, "
    "source_int BIGINT)"
)
_V2_ADDED = ", source_key VARCHAR, source_int BIGINT"  # the columns of schemas 3 and 4
# A database row's key in the source as text, however it is stored.
STORED_KEY = "coalesce({0}source_key, CAST({0}source_int AS VARCHAR))"

_ROW_COLUMNS = "customer_id, event, timestamp, value, properties, source_row, import_key"
_REJECTED = (
    "CREATE TABLE IF NOT EXISTS rejected (import_id VARCHAR NOT NULL, source VARCHAR NOT NULL, "
    "line BIGINT, field VARCHAR, reason VARCHAR NOT NULL, raw VARCHAR, source_key VARCHAR)"
)
_REJECTED_COLUMNS = "import_id, source, line, field, reason, raw"
_IMPORT_COLUMNS = (
    "import_id, source, sha256, options, imported_at, read, loaded, duplicates, rejected, "
    "rejected_file, replaced_by"
)
# ``size`` (bytes as stored) lets an import skip the hash-first check when no earlier import
# can be the same file; it is NULL for imports made before schema 2.
_IMPORTS = (
    "CREATE TABLE IF NOT EXISTS imports (import_id VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, "
    "sha256 VARCHAR NOT NULL, options VARCHAR NOT NULL, imported_at TIMESTAMP NOT NULL, "
    "read BIGINT, loaded BIGINT, duplicates BIGINT, rejected BIGINT, rejected_file VARCHAR, "
    "replaced_by VARCHAR, import_key INTEGER NOT NULL UNIQUE, size BIGINT, "
    "source_name VARCHAR, replaced BIGINT)"
)
# One row per database source: its definition (events.dbsource.DatabaseSource as JSON) and the
# cursor reached, written in the transaction that loaded the rows up to it.
_SOURCES = (
    "CREATE TABLE IF NOT EXISTS sources (name VARCHAR PRIMARY KEY, spec VARCHAR NOT NULL, "
    "cursor VARCHAR, registered_at TIMESTAMP NOT NULL, synced_at TIMESTAMP)"
)
# Rates to the base currency (events.rates); the base is in journeykit_meta.
_RATES = (
    "CREATE TABLE IF NOT EXISTS rates (currency VARCHAR NOT NULL, valid_from DATE NOT NULL, "
    "rate DOUBLE NOT NULL, PRIMARY KEY (currency, valid_from))"
)
# Names a source uses for a customer known by another id (events.identities).
_IDENTITIES = (
    "CREATE TABLE IF NOT EXISTS identities (alias VARCHAR PRIMARY KEY, "
    "customer_id VARCHAR NOT NULL)"
)
_META = "CREATE TABLE IF NOT EXISTS journeykit_meta (key VARCHAR PRIMARY KEY, value VARCHAR)"
REJECTED_FOLDER = "rejected"
_REJECTS_NAME = re.compile(r"(rejected-.*-(?P<id>[0-9a-f]{12})\.csv|\.rejected-.*\.tmp)")
_KEY = "customer_id, event, timestamp, value, properties"
_NOT_STORED = (
    "NOT EXISTS (SELECT 1 FROM event_rows e WHERE e.customer_id = t.customer_id "
    "AND e.event = t.event AND e.timestamp = t.timestamp "
    "AND e.value IS NOT DISTINCT FROM t.value AND e.properties = t.properties)"
)


@dataclass(frozen=True)
class ImportOptions:
    mapping: ColumnMap = field(default_factory=ColumnMap)
    timezone: str = "UTC"
    delimiter: str | None = None
    strict: bool = False
    replace: bool = False

    def key(self) -> str:
        """What besides the bytes decides the result: the same file read differently is new."""
        return json.dumps(
            {"mapping": json.loads(self.mapping.to_json()), "timezone": self.timezone,
             "delimiter": self.delimiter}, sort_keys=True,
        )  # fmt: skip


@dataclass(frozen=True)
class ImportReport:
    """The counts of one file's import; always ``read = loaded + duplicates + rejected``."""

    source: str
    import_id: str
    read: int
    loaded: int
    duplicates: int
    rejected: int
    rejected_file: Path | None = None
    already_imported: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejected_file": str(self.rejected_file) if self.rejected_file else None,
            "source": self.source,
            "import_id": self.import_id,
            "already_imported": self.already_imported,
        }

    def summary(self) -> str:
        text = (
            f"read {self.read:,}, loaded {self.loaded:,}, duplicates {self.duplicates:,}, "
            f"rejected {self.rejected:,}"
        )
        if self.rejected_file:
            text += f" (see {self.rejected_file})"
        if self.already_imported:
            text += "; already imported, nothing changed (use --replace to load it again)"
        return text


def schema_version(engine: Any) -> int:
    """0 for an empty database, 1 for the layout before ``journeykit_meta`` existed."""
    tables = {r[0] for r in engine.fetchall("SELECT table_name FROM duckdb_tables()")}
    if "journeykit_meta" in tables:
        row = engine.fetchall("SELECT value FROM journeykit_meta WHERE key = 'schema_version'")
        return int(row[0][0]) if row else 0
    return 1 if "events" in tables else 0


def prepare_schema(engine: Any) -> None:
    """Create the tables, or upgrade an older workspace, in one transaction of its own.

    An upgrade rewrites the events once; it is all or nothing like an import, and what the
    workspace holds is the same before and after.
    """
    version = schema_version(engine)
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            f"{engine.database}: workspace schema {version} was written by a newer journeykit "
            f"(this one reads up to {SCHEMA_VERSION}); upgrade journeykit to use it"
        )
    if version == SCHEMA_VERSION:
        return
    with engine.transaction():
        if version == 1:
            _upgrade_from_1(engine)
        if version in (1, 2):
            _upgrade_from_2(engine)
        if version in (1, 2, 3):
            engine.execute("ALTER TABLE event_rows ADD COLUMN source_int BIGINT")
        for sql in (_EVENT_ROWS, _REJECTED, _IMPORTS, _META, _SOURCES, _IDENTITIES, _RATES):
            engine.execute(sql)
        engine.execute(
            "INSERT OR REPLACE INTO journeykit_meta VALUES ('schema_version', $v)",
            {"v": str(SCHEMA_VERSION)},
        )
        refresh_events_view(engine)


def _upgrade_from_1(engine: Any) -> None:
    """Schema 1 stored source and import_id on every event row; give each import a key."""
    engine.execute("ALTER TABLE imports RENAME TO imports_v1")
    engine.execute(_IMPORTS.replace(", source_name VARCHAR, replaced BIGINT", ""))
    engine.execute(
        f"INSERT INTO imports ({_IMPORT_COLUMNS}, import_key) SELECT {_IMPORT_COLUMNS}, "
        "CAST(row_number() OVER (ORDER BY imported_at, import_id) AS INTEGER) FROM imports_v1"
    )
    engine.execute(_EVENT_ROWS.replace(_V2_ADDED, ""))
    engine.execute(
        "INSERT INTO event_rows SELECT e.customer_id, e.event, e.timestamp, e.value, "
        "e.properties, e.source_row, i.import_key FROM events e JOIN imports i USING (import_id)"
    )
    engine.execute("DROP TABLE events")
    engine.execute("DROP TABLE imports_v1")


def _upgrade_from_2(engine: Any) -> None:
    """Schema 3's columns, NULL for everything imported before (files have no source key)."""
    engine.execute("ALTER TABLE event_rows ADD COLUMN source_key VARCHAR")
    engine.execute("ALTER TABLE rejected ADD COLUMN source_key VARCHAR")
    engine.execute("ALTER TABLE imports ADD COLUMN source_name VARCHAR")
    engine.execute("ALTER TABLE imports ADD COLUMN replaced BIGINT")


def refresh_events_view(engine: Any) -> None:
    """``events`` as every reader sees it: the stored rows plus their import's source and id."""
    keys = engine.fetchall(
        "SELECT import_key, source, import_id FROM imports WHERE replaced_by IS NULL "
        "ORDER BY import_key"
    )
    source, import_id = "CAST(NULL AS VARCHAR)", "CAST(NULL AS VARCHAR)"
    if keys:
        source = (
            "CASE import_key "
            + " ".join(f"WHEN {int(k)} THEN {quote_literal(s)}" for k, s, _ in keys)
            + " END"
        )
        import_id = (
            "CASE import_key "
            + " ".join(f"WHEN {int(k)} THEN {quote_literal(i)}" for k, _, i in keys)
            + " END"
        )
    # The identity map costs a join only in workspaces that have one.
    merged = engine.fetchone("SELECT count(*) > 0 FROM identities")[0]
    customer, rows = "e.customer_id", "event_rows e"
    if merged:
        customer = "coalesce(i.customer_id, e.customer_id)"
        rows += " LEFT JOIN identities i ON i.alias = e.customer_id"
    from journeykit.events.rates import value_sql

    value, join = value_sql(engine)
    engine.execute(
        f"CREATE OR REPLACE VIEW events AS SELECT {customer} AS customer_id, e.event, "
        f"e.timestamp, {value} AS value, e.properties, {source} AS source, e.source_row, "
        f"{import_id} AS import_id, {STORED_KEY.format('e.')} AS source_key, "
        "e.customer_id AS source_customer_id, "
        f"e.value AS source_value, e.import_key FROM {rows}{join}"
    )


class Derive(Protocol):
    """What a write keeps from the events (``engine.workspace.logs_of``): run last in its
    transaction, committed with the events or not at all."""

    def prefetch(self) -> None:
        """Start what needs no database, just before the rows are read."""

    def __call__(self, engine: Any) -> None: ...


def import_into(
    engine: Any,
    ws: Workspace,
    paths: Sequence[Path],
    options: ImportOptions | None = None,
    *,
    progress: Progress | None = None,
    derive: Derive | None = None,
) -> list[ImportReport]:
    """Import ``paths`` into the workspace's database, open as ``engine`` (closed here), in one
    transaction; see the module docstring. ``engine.workspace.import_files`` opens it.

    ``derive`` runs last in the transaction: what is kept from the events (the stored milestone
    logs) is committed with them or not at all."""
    opts = options or ImportOptions()
    written: list[Path] = []
    try:
        prepare_schema(engine)
        tidy_rejected_files(engine, ws)
        if derive is not None:
            derive.prefetch()
        # Reading happens before the transaction: it writes only to in-memory staging, and a
        # DuckDB transaction may write to one database only.
        plans = [_plan(engine, ws, p, i, opts, progress) for i, p in enumerate(paths)]
        try:
            with engine.transaction():
                reports = [_load(engine, ws, plan, opts, progress, written) for plan in plans]
                if any(plan.earlier is None for plan in plans):
                    refresh_events_view(engine)
                if derive is not None:
                    derive(engine)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise
        if opts.replace:
            tidy_rejected_files(engine, ws)  # the replaced imports' files
        return reports
    finally:
        engine.close()


def tidy_rejected_files(engine: Any, ws: Workspace) -> None:
    """Make the rejects folder match the database: one CSV per current import with rejects."""
    folder = ws.root / REJECTED_FOLDER
    live = {
        import_id: (name, from_source)
        for import_id, name, from_source in engine.fetchall(
            "SELECT import_id, rejected_file, source_name IS NOT NULL FROM imports "
            "WHERE replaced_by IS NULL AND rejected_file IS NOT NULL"
        )
    }
    if folder.is_dir():
        for path in folder.iterdir():
            match = _REJECTS_NAME.fullmatch(path.name)
            if match and match.group("id") not in live:
                path.unlink(missing_ok=True)
    for import_id, (name, from_source) in live.items():
        path = folder / Path(name).name  # the workspace may have moved since
        if not path.exists():
            folder.mkdir(exist_ok=True)
            where = "source_key" if from_source else "line"  # a database row has a key
            write_rejected_csv(
                engine, f"SELECT source, {where}, field, reason, raw FROM rejected "
                f"WHERE import_id = {quote_literal(import_id)}", path, order=where,
            )  # fmt: skip


@dataclass(frozen=True)
class _Plan:
    source: str
    digest: str
    size: int
    earlier: ImportReport | None = None
    result: ReadResult | None = None


def _plan(
    engine: Any,
    ws: Workspace,
    path: Path,
    index: int,
    opts: ImportOptions,
    progress: Progress | None,
) -> _Plan:
    source = str(path.resolve())
    size = _size(path)

    def read(lines: int | Callable[[], int | None] | None) -> ReadResult:
        result = read_file(
            engine, path, mapping=opts.mapping, timezone=opts.timezone,
            delimiter=opts.delimiter, progress=progress, name=f"f{index}", lines=lines,
        )  # fmt: skip
        if opts.strict and result.rejected:
            raise StrictImportError(_strict_message(engine, result))
        return result

    if opts.replace or not _maybe_imported(engine, size, opts.key()):
        # No earlier import can be this file, so it is read for sure: hash it meanwhile
        # (hashlib and DuckDB both let go of the GIL).
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            hashing = pool.submit(fingerprint, path, stop)
            try:
                result = read(lambda: hashing.result()[1])
            except BaseException:
                stop.set()
                raise
            digest = hashing.result()[0]
        return _Plan(source, digest, size, result=result)
    digest, lines = fingerprint(path)
    earlier = _earlier(engine, ws, digest, opts.key())
    if earlier is not None:
        if opts.strict and earlier.rejected:
            raise StrictImportError(_strict_earlier_message(engine, path, earlier))
        return _Plan(source, digest, size, earlier=earlier)
    return _Plan(source, digest, size, result=read(lines))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise EventFileError(path, f"cannot be read: {exc}") from None


def _maybe_imported(engine: Any, size: int, key: str) -> bool:
    """Could a current import be this file? Same options and size (or a size not recorded)."""
    return bool(
        engine.fetchone(
            "SELECT count(*) > 0 FROM imports WHERE replaced_by IS NULL AND options = $key "
            "AND (size IS NULL OR size = $size)",
            {"key": key, "size": size},
        )[0]
    )


def _load(
    engine: Any,
    ws: Workspace,
    plan: _Plan,
    opts: ImportOptions,
    progress: Progress | None,
    written: list[Path],
) -> ImportReport:
    if plan.earlier is not None:
        return plan.earlier
    assert plan.result is not None
    result, import_id = plan.result, uuid.uuid4().hex[:12]
    if opts.replace:
        _forget(engine, plan.source, plan.digest, opts.key(), import_id)
    key = int(engine.fetchone("SELECT coalesce(max(import_key), 0) + 1 FROM imports")[0])
    loaded = _insert_events(engine, result.tables, key, progress)
    rejected_file = _save_rejected(engine, ws, result.tables, plan.source, import_id, written)
    report = ImportReport(
        plan.source, import_id, result.read, loaded, result.kept - loaded, result.rejected,
        rejected_file,
    )  # fmt: skip
    engine.execute(
        f"INSERT INTO imports ({_IMPORT_COLUMNS}, import_key, size) VALUES ($id, $source, $sha, "
        "$options, $at, $read, $loaded, $duplicates, $rejected, $file, NULL, $key, $size)",
        {"id": import_id, "source": plan.source, "sha": plan.digest, "options": opts.key(),
         "at": datetime.now(UTC).replace(tzinfo=None), "read": report.read,
         "loaded": report.loaded, "duplicates": report.duplicates, "rejected": report.rejected,
         "file": str(rejected_file) if rejected_file else None, "key": key, "size": plan.size},
    )  # fmt: skip
    return report


def fingerprint(path: Path, stop: threading.Event | None = None) -> tuple[str, int | None]:
    """SHA-256 of the file's bytes and, for a text file, its line count: one pass.

    ``stop``, once set, ends the pass early (with :class:`_Stopped`): the import it ran
    alongside has failed or been interrupted and will not wait for a whole file's hash.
    """
    digest = hashlib.sha256()
    feed: Any = digest if stop is None else _Stoppable(digest, stop)
    try:
        if detect_format(path) != "parquet":
            lines = count_lines(path, feed)
            return digest.hexdigest(), lines
        with path.open("rb") as fh:
            while chunk := fh.read(4 << 20):
                feed.update(chunk)
    except (OSError, EOFError) as exc:  # unreadable, or a broken gzip stream
        raise EventFileError(path, f"cannot be read: {exc}") from None
    return digest.hexdigest(), None


class _Stopped(Exception):
    pass


class _Stoppable:
    """A hash that raises :class:`_Stopped` at its next chunk once ``stop`` is set."""

    def __init__(self, digest: Any, stop: threading.Event) -> None:
        self.digest, self.stop = digest, stop

    def update(self, data: bytes) -> None:
        if self.stop.is_set():
            raise _Stopped
        self.digest.update(data)


def _earlier(engine: Any, ws: Workspace, digest: str, key: str) -> ImportReport | None:
    rows = engine.fetchall(
        "SELECT import_id, source, read, loaded, duplicates, rejected, rejected_file "
        "FROM imports WHERE sha256 = $sha AND options = $key AND replaced_by IS NULL "
        "ORDER BY imported_at DESC LIMIT 1",
        {"sha": digest, "key": key},
    )
    if not rows:
        return None
    import_id, source, read, loaded, duplicates, rejected, rejected_file = rows[0]
    # Every row that was kept is now a duplicate of what the earlier import stored.
    return ImportReport(
        source, import_id, read, 0, loaded + duplicates, rejected,
        ws.root / REJECTED_FOLDER / Path(rejected_file).name if rejected_file else None,
        already_imported=True,
    )  # fmt: skip


def _forget(engine: Any, source: str, digest: str, key: str, import_id: str) -> None:
    """Remove what earlier imports of this file loaded; the history says which import replaced
    them."""
    earlier = (
        "SELECT import_id FROM imports WHERE replaced_by IS NULL "
        "AND (source = $source OR (sha256 = $sha AND options = $key))"
    )
    params = {"source": source, "sha": digest, "key": key}
    engine.execute(
        "DELETE FROM event_rows WHERE import_key IN "
        f"({earlier.replace('SELECT import_id', 'SELECT import_key')})",
        params,
    )
    engine.execute(f"DELETE FROM rejected WHERE import_id IN ({earlier})", params)
    engine.execute(
        f"UPDATE imports SET replaced_by = $new WHERE import_id IN ({earlier})",
        {**params, "new": import_id},
    )


def _insert_events(engine: Any, t: Staged, import_key: int, progress: Progress | None) -> int:
    """Insert the kept rows once each: copies within the file (``t.copies``, found while
    reading) and events already stored stay out."""
    stored = engine.fetchone("SELECT count(*) > 0 FROM event_rows")[0]
    not_stored = f"AND {_NOT_STORED}" if stored else ""
    sql = (
        f"INSERT INTO event_rows ({_ROW_COLUMNS}) SELECT {_KEY}, line, $key FROM {t.lined} t "
        f"WHERE reason IS NULL AND _row NOT IN (SELECT _row FROM {t.copies}) {not_stored}"
    )
    before = engine.fetchone("SELECT count(*) FROM event_rows")[0]
    engine.execute_with_progress(sql, {"key": import_key}, _loading(progress))
    return int(engine.fetchone("SELECT count(*) FROM event_rows")[0]) - int(before)


def _loading(progress: Progress | None) -> Any:
    if progress is None:
        return None
    return lambda done: progress("loading", done)


def _save_rejected(
    engine: Any, ws: Workspace, t: Staged, source: str, import_id: str, written: list[Path]
) -> Path | None:
    count = engine.fetchone(f"SELECT count(*) FROM {t.rejected}")[0]
    if not count:
        return None
    engine.execute(
        f"INSERT INTO rejected ({_REJECTED_COLUMNS}) "
        f"SELECT $id, $source, line, field, reason, raw FROM {t.rejected}",
        {"id": import_id, "source": source},
    )
    folder = ws.root / REJECTED_FOLDER
    folder.mkdir(exist_ok=True)
    path = folder / f"rejected-{Path(source).name}-{import_id}.csv"
    written.append(path)
    write_rejected_csv(
        engine, f"SELECT {quote_literal(source)} AS source, line, field, reason, raw "
        f"FROM {t.rejected}", path,
    )  # fmt: skip
    return path


def write_rejected_csv(engine: Any, select: str, path: Path, *, order: str = "line") -> None:
    # COPY cannot take parameters; the file name is a quoted literal.
    engine.execute(
        f"COPY ({select} ORDER BY {order}) TO {quote_literal(str(path))} (HEADER, DELIMITER ',')"
    )


def _strict_message(engine: Any, result: ReadResult) -> str:
    rows = engine.fetchall(
        f"SELECT line, field, reason FROM {result.tables.rejected} ORDER BY line LIMIT 5"
    )
    head = f"{result.path}: {result.rejected:,} row(s) rejected and --strict is on"
    return _with_rows(f"{head}; nothing was imported", result.path, result.rejected, rows)


def _strict_earlier_message(engine: Any, path: Path, earlier: ImportReport) -> str:
    """--strict promises a file with no rejects; one imported earlier with rejects breaks that."""
    rows = engine.fetchall(
        "SELECT line, field, reason FROM rejected WHERE import_id = $id ORDER BY line LIMIT 5",
        {"id": earlier.import_id},
    )
    head = (
        f"{path}: imported earlier with {earlier.rejected:,} row(s) rejected and --strict is on "
        f"(see {earlier.rejected_file}); nothing was imported (fix the rows, then --replace)"
    )
    return _with_rows(head, path, earlier.rejected, rows)


def _with_rows(head: str, path: Path, count: int, rows: list[tuple[Any, ...]]) -> str:
    lines = [f"  {path}:{line}: {fld + ': ' if fld else ''}{reason}" for line, fld, reason in rows]
    more = f"\n  ... and {count - len(rows):,} more" if count > len(rows) else ""
    return "\n".join([head, *lines]) + more
